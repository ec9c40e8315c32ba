package org.wgrelay.server.blocklist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC rule 1's blocklist: expiry by the caller's clock, extend-only blocks, sweeping. */
class BlocklistTest {
    static final long NOW = 1_700_000_000_000L;

    @Test
    void blocksAnIpUntilItsExpiryExclusive() throws Exception {
        Blocklist list = new Blocklist();
        InetAddress ip = InetAddress.getByName("192.0.2.1");
        assertFalse(list.isBlocked(ip, NOW));

        list.block(ip, NOW + 60_000, 2);

        assertTrue(list.isBlocked(ip, NOW));
        assertTrue(list.isBlocked(ip, NOW + 59_999));
        assertFalse(list.isBlocked(ip, NOW + 60_000), "expired exactly at its expiry time");
        assertFalse(list.isBlocked(InetAddress.getByName("192.0.2.2"), NOW));
    }

    @Test
    void blocksIpv6SourcesLikeIpv4Ones() throws Exception {
        Blocklist list = new Blocklist();
        list.block(InetAddress.getByName("2001:db8::1"), NOW + 1, 2);
        assertTrue(list.isBlocked(InetAddress.getByName("2001:db8:0:0::1"), NOW));
        assertFalse(list.isBlocked(InetAddress.getByName("2001:db8::2"), NOW));
    }

    @Test
    void extendsABlockButNeverShortensIt() throws Exception {
        Blocklist list = new Blocklist();
        InetAddress ip = InetAddress.getByName("192.0.2.1");
        list.block(ip, NOW + 3_600_000, 5);
        list.block(ip, NOW + 60_000, 6);
        assertTrue(list.isBlocked(ip, NOW + 120_000));
        List<Blocklist.Entry> entries = list.entries(NOW);
        assertEquals(1, entries.size());
        assertEquals(NOW + 3_600_000, entries.get(0).expiresAtMillis());
        assertEquals(6, entries.get(0).totalStrikes());
    }

    @Test
    void listsOnlyLiveEntriesAndSweepsExpiredOnes() throws Exception {
        Blocklist list = new Blocklist();
        list.block(InetAddress.getByName("192.0.2.1"), NOW + 10, 2);
        list.block(InetAddress.getByName("192.0.2.2"), NOW + 20, 2);
        assertEquals(2, list.entries(NOW).size());
        assertEquals(1, list.entries(NOW + 10).size());
        assertEquals(2, list.size(), "expired entries stay until swept");
        assertEquals(1, list.liveCount(NOW + 10), "but only live ones count");

        assertEquals(1, list.sweep(NOW + 10));
        assertEquals(1, list.size());
        assertEquals(0, list.sweep(NOW + 10));
        assertEquals(1, list.sweep(NOW + 1_000));
        assertEquals(0, list.size());
    }

    @Test
    void unblocksAListedIpAndSaysWhenItWasNotListed() throws Exception {
        Blocklist list = new Blocklist();
        InetAddress ip = InetAddress.getByName("192.0.2.1");
        assertFalse(list.unblock(ip));
        list.block(ip, NOW + 10, 2);
        assertTrue(list.unblock(ip));
        assertFalse(list.isBlocked(ip, NOW));
        assertFalse(list.unblock(ip));
    }
}
