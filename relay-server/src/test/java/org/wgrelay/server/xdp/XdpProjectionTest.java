package org.wgrelay.server.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.PeerRuntime;
import org.wgrelay.xdp.XdpNic;
import org.wgrelay.xdp.XdpPeer;
import org.wgrelay.xdp.XdpState;

class XdpProjectionTest {
    private static final long NOW = 1_000_000L;
    private static final Map<String, XdpNic> NICS =
            Map.of("eth0", new XdpNic("eth0", 3, "10.0.0.1", "02:00:00:00:00:01"));

    private Roster roster = Roster.EMPTY;

    private void change(java.util.function.Function<Roster, RosterChange> f) {
        RosterChange c = f.apply(roster);
        assertTrue(c.ok(), c.message());
        roster = c.roster();
    }

    private static Endpoint ep(String ip, int port) {
        try {
            return Endpoint.of(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private XdpState project(Blocklist blocklist) {
        ForwardingTable table = ForwardingTable.build(roster, name -> new PeerRuntime(new PeerStats(1)));
        return XdpProjection.project(51820, NICS, table, blocklist, NOW);
    }

    private void aliceBobCarol() {
        change(r -> r.addPeer("alice", ep("198.51.100.10", 40001), null, null));
        change(r -> r.addPeer("bob", ep("203.0.113.20", 40002), null, null));
        change(r -> r.addPeer("carol", ep("203.0.113.20", 40003), null, null)); // bob's IP, unlinked
        change(r -> r.addLink("alice", "bob"));
    }

    @Test
    void linkedIpv4PeersAreProjectedBothWaysAndUnlinkedOnesNot() {
        aliceBobCarol();
        XdpState s = project(new Blocklist());

        assertEquals(
                Set.of("198.51.100.10 40001", "203.0.113.20 40002"), s.peers().keySet());
        XdpPeer alice = s.peers().get("198.51.100.10 40001");
        assertEquals("203.0.113.20", alice.partnerIp());
        assertEquals(40002, alice.partnerPort());
        assertEquals(0, alice.flags(), "nothing blocked, no roaming: no flags");
    }

    @Test
    void aBlockedIpFlagsEveryLinkedEntryFromItAndIsMirroredWithItsTimeLeft() throws Exception {
        aliceBobCarol();
        Blocklist blocklist = new Blocklist();
        blocklist.block(InetAddress.getByName("203.0.113.20"), NOW + 59_001, 2);
        XdpState s = project(blocklist);

        XdpPeer bob = s.peers().get("203.0.113.20 40002");
        XdpPeer alice = s.peers().get("198.51.100.10 40001");
        assertTrue(bob.blockCheck(), "bob's IP is blocked: " + bob);
        assertEquals(XdpPeer.FLAG_BLOCK_CHECK, bob.flags());
        assertFalse(alice.blockCheck(), "alice's IP is not blocked: " + alice);
        assertEquals(Map.of("203.0.113.20", 60L), s.blocklist());
    }

    @Test
    void anExpiredBlockNeitherFlagsNorIsMirrored() throws Exception {
        aliceBobCarol();
        Blocklist blocklist = new Blocklist();
        blocklist.block(InetAddress.getByName("203.0.113.20"), NOW - 1, 2);
        XdpState s = project(blocklist);

        assertFalse(s.peers().get("203.0.113.20 40002").blockCheck());
        assertEquals(Map.of(), s.blocklist());
    }
}
