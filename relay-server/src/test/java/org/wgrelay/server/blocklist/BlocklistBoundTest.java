package org.wgrelay.server.blocklist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class BlocklistBoundTest {
    private static final long T0 = 1_700_000_000_000L;

    private static InetAddress ip(int n) {
        try {
            return InetAddress.getByAddress(new byte[] {10, (byte) (n >> 16), (byte) (n >> 8), (byte) n});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void staysAtItsCapacityAndEvictsTheEntryExpiringSoonest() {
        Blocklist blocklist = new Blocklist(100);
        blocklist.block(ip(0), T0 + 10_000, 2); // expires first
        for (int i = 1; i < 150; i++) {
            blocklist.block(ip(i), T0 + 60_000 + i, 2);
        }
        assertEquals(100, blocklist.size());
        assertFalse(blocklist.isBlocked(ip(0), T0));
        assertTrue(blocklist.isBlocked(ip(149), T0));
    }

    @Test
    void reblockingAListedIpNeverShortensItsBlockAndDoesNotEvict() {
        Blocklist blocklist = new Blocklist(2);
        blocklist.block(ip(1), T0 + 60_000, 2);
        blocklist.block(ip(2), T0 + 60_000, 2);
        blocklist.block(ip(1), T0 + 1_000, 3);
        assertEquals(2, blocklist.size());
        assertTrue(blocklist.isBlocked(ip(1), T0 + 59_000));
    }
}
