package org.wgrelay.server.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.table.PeerRuntime;
import org.wgrelay.server.table.RoamingCandidate;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.table.SessionIndex;
import org.wgrelay.xdp.XdpNic;
import org.wgrelay.xdp.XdpPeer;
import org.wgrelay.xdp.XdpSession;
import org.wgrelay.xdp.XdpState;

class XdpProjectionTest {
    private static final long NOW = 1_000_000L;
    private static final Map<String, XdpNic> NICS =
            Map.of("eth0", new XdpNic("eth0", 3, "10.0.0.1", "02:00:00:00:00:01"));

    private Roster roster = Roster.EMPTY;
    /** The runtimes outlive tables, as in the relay: session indices and roaming slots live here. */
    private final Map<String, PeerRuntime> runtimes = new HashMap<>();

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

    private ForwardingTable table() {
        return ForwardingTable.build(
                roster, name -> runtimes.computeIfAbsent(name, n -> new PeerRuntime(new PeerStats(1))));
    }

    private XdpState project(Blocklist blocklist) {
        return XdpProjection.project(51820, NICS, table(), blocklist, NOW);
    }

    private XdpState project(long nowMillis) {
        return XdpProjection.project(51820, NICS, table(), new Blocklist(), nowMillis);
    }

    private static String key(int n) {
        byte[] k = new byte[32];
        k[0] = (byte) n;
        return Base64.getEncoder().encodeToString(k);
    }

    /**
     * hub (198.51.100.1:51000) linked to s1, s2 (IPv4, s2 pinned to eth0) and s6 (IPv6);
     * solo linked to pal, an ordinary pair.
     */
    private void hubWithSpokes() {
        roster = Roster.empty(8);
        change(r -> r.addPeer("hub", ep("198.51.100.1", 51000), key(1), null));
        change(r -> r.addPeer("s1", ep("203.0.113.1", 41001), key(2), null));
        change(r -> r.addPeer("s2", ep("203.0.113.2", 41002), key(3), null));
        change(r -> r.addPeer("s6", ep("2001:db8::6", 41006), key(4), null));
        change(r -> r.addPeer("solo", ep("192.0.2.7", 42007), key(5), null));
        change(r -> r.addPeer("pal", ep("192.0.2.8", 42008), key(6), null));
        change(r -> r.setNic("s2", "eth0"));
        change(r -> r.addLink("hub", "s1"));
        change(r -> r.addLink("hub", "s2"));
        change(r -> r.addLink("hub", "s6"));
        change(r -> r.addLink("solo", "pal"));
    }

    /** Spoke {@code spoke}'s handshake with sender index {@code index} reached the hub at {@code at}. */
    private void learn(String spoke, int index, long at) {
        Route route = table().routeOf(spoke);
        Partner toHub = route.solePartner();
        toHub.runtime().sessions().record(index, route.runtime().id(), toHub.ring(), at);
    }

    /** A candidate of {@code peer} whose partner has answered it (rule 8), or not yet. */
    private void candidate(String peer, boolean answered) {
        RoamingCandidate c = new RoamingCandidate() {
            @Override
            public Endpoint endpoint() {
                return ep("192.0.2.200", 1);
            }

            @Override
            public boolean awaitsPartnerData() {
                return answered;
            }
        };
        assertTrue(runtimes.get(peer).roaming().replace(null, c));
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
    void aHubIsProjectedWithoutAPartnerAndItsIpv4SpokesPointAtItFlagged() {
        hubWithSpokes();
        XdpState s = project(new Blocklist());

        assertEquals(XdpPeer.hub("198.51.100.1", 51000, false, false), s.peers().get("198.51.100.1 51000"));
        XdpPeer s1 = s.peers().get("203.0.113.1 41001");
        assertEquals(new XdpPeer("203.0.113.1", 41001, "198.51.100.1", 51000, 0, false, false, false, true), s1);
        assertEquals(XdpPeer.FLAG_PARTNER_HUB, s1.flags());
        assertEquals(
                0,
                s.peers().get("203.0.113.2 41002").egressIfindex(),
                "s2's pin is for frames to s2 (its sessions carry it), not from it");
        XdpPeer solo = s.peers().get("192.0.2.7 42007");
        assertFalse(solo.hub() || solo.partnerHub(), "an ordinary pair is untouched: " + solo);
        assertEquals(
                Set.of(
                        "198.51.100.1 51000",
                        "203.0.113.1 41001",
                        "203.0.113.2 41002",
                        "192.0.2.7 42007",
                        "192.0.2.8 42008"),
                s.peers().keySet(),
                "the IPv6 spoke is userspace's");
    }

    @Test
    void everyLiveSessionOfAHubBecomesAnEntryWithItsOwnersPin() {
        hubWithSpokes();
        learn("s1", 0x11223344, NOW - 1_000);
        learn("s2", 0xfffffff0, NOW - 2_000);
        learn("s6", 0x66, NOW); // an IPv6 owner: not in the program
        XdpState s = project(NOW);

        assertEquals(
                Map.of(
                        "198.51.100.1 51000 287454020",
                        new XdpSession("198.51.100.1", 51000, 0x11223344, "203.0.113.1", 41001, 0),
                        "198.51.100.1 51000 4294967280",
                        new XdpSession("198.51.100.1", 51000, 0xfffffff0, "203.0.113.2", 41002, 3)),
                s.sessions());
    }

    @Test
    void aSessionLeavesTheProjectionWhenItExpiresByTime() {
        hubWithSpokes();
        learn("s1", 7, NOW);

        assertEquals(
                Set.of("198.51.100.1 51000 7"),
                project(NOW + SessionIndex.TTL_MILLIS - 1).sessions().keySet());
        assertEquals(Map.of(), project(NOW + SessionIndex.TTL_MILLIS).sessions(), "expired, though not swept");
    }

    @Test
    void anIndexTwoSpokesOfOneHubBothHoldIsLeftToUserspace() {
        hubWithSpokes();
        learn("s1", 42, NOW);
        learn("s2", 42, NOW);
        learn("s2", 43, NOW);

        assertEquals(Set.of("198.51.100.1 51000 43"), project(NOW).sessions().keySet());
    }

    @Test
    void aSessionWhoseOwnerIsNoLongerAPartnerIsNotProjected() {
        hubWithSpokes();
        learn("s1", 42, NOW);
        learn("s2", 43, NOW);
        change(r -> r.removeLink("hub", "s1"));

        XdpState s = project(NOW);
        assertEquals(Set.of("198.51.100.1 51000 43"), s.sessions().keySet());
        assertTrue(s.peers().get("198.51.100.1 51000").hub(), "still a hub with s2 and s6");
    }

    @Test
    void aHubPassesEverythingUpWhileOneOfItsSpokesHasAnAnsweredCandidate() {
        hubWithSpokes();
        project(NOW); // the runtimes exist
        candidate("s2", false);
        assertFalse(project(NOW).peers().get("198.51.100.1 51000").pass(), "not answered yet");

        runtimes.get("s2").roaming().clear(runtimes.get("s2").roaming().candidate());
        candidate("s2", true);
        XdpState s = project(NOW);
        assertTrue(s.peers().get("198.51.100.1 51000").pass(), "rule 9 must see the hub's data");
        assertFalse(s.peers().get("203.0.113.1 41001").pass(), "the other spokes' data is not the candidate's");
        assertTrue(s.peers().get("203.0.113.2 41002").pass(), "the voiding rule watches s2's own data");
    }

    @Test
    void aRoamingHubPassesItsOwnDataAndItsSpokesData() {
        hubWithSpokes();
        project(NOW);
        candidate("hub", true);
        XdpState s = project(NOW);

        assertTrue(s.peers().get("198.51.100.1 51000").pass());
        assertTrue(s.peers().get("203.0.113.1 41001").pass(), "a spoke's data may commit the hub's candidate");
        assertFalse(s.peers().get("192.0.2.7 42007").pass());
    }

    @Test
    void aBlockedHubsEntryIsFlaggedForTheBlocklist() throws Exception {
        hubWithSpokes();
        Blocklist blocklist = new Blocklist();
        blocklist.block(InetAddress.getByName("198.51.100.1"), NOW + 10_000, 2);

        assertTrue(project(blocklist).peers().get("198.51.100.1 51000").blockCheck());
    }

    @Test
    void aHubThatLosesItsSecondLinkBecomesAnOrdinaryPairAndItsSessionsGo() {
        hubWithSpokes();
        learn("s1", 42, NOW);
        change(r -> r.removeLink("hub", "s2"));
        change(r -> r.removeLink("hub", "s6"));

        XdpState s = project(NOW);
        assertEquals(
                new XdpPeer("198.51.100.1", 51000, "203.0.113.1", 41001, 0, false, false),
                s.peers().get("198.51.100.1 51000"));
        assertFalse(s.peers().get("203.0.113.1 41001").partnerHub());
        assertEquals(Map.of(), s.sessions());
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
