package org.wgrelay.server.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;

/** The session index alone (SPEC B): lookups, the bound per partner, expiry, collisions, growth. */
class SessionIndexTest {
    static final long NOW = 1_700_000_000_000L;

    /** A hub "h" linked to {@code spokes} spokes s0..s(n-1), all keyed; the table and runtimes. */
    static final class Hub {
        final Map<String, PeerRuntime> runtimes = new HashMap<>();
        Roster roster = Roster.empty(Roster.MAX_LINKS_PER_PEER_LIMIT);
        ForwardingTable table;

        Hub(int spokes) {
            add("h", 1);
            for (int i = 0; i < spokes; i++) {
                add("s" + i, 2 + i);
                ok(roster.addLink("h", "s" + i));
            }
            rebuild();
        }

        private void add(String name, int n) {
            byte[] key = new byte[32];
            key[0] = (byte) n;
            key[1] = (byte) (n >> 8);
            ok(roster.addPeer(
                    name,
                    Endpoint.parse("10." + (n >> 8) + "." + (n & 0xff) + ".1:51820"),
                    java.util.Base64.getEncoder().encodeToString(key),
                    null));
        }

        void ok(RosterChange change) {
            assertEquals(true, change.ok(), change.message());
            roster = change.roster();
        }

        void rebuild() {
            table = ForwardingTable.build(
                    roster, n -> runtimes.computeIfAbsent(n, x -> new PeerRuntime(new PeerStats(1))));
        }

        Route hub() {
            return table.routeOf("h");
        }

        Partner spoke(int i) {
            return table.routeOf("s" + i).solePartner(); // the hub, as the spoke sees it
        }

        /** Spoke i's handshake with sender index {@code index} reached the hub at {@code now}. */
        void learn(int i, int index, long now) {
            Route spoke = table.routeOf("s" + i);
            Partner toHub = spoke.solePartner();
            toHub.runtime().sessions().record(index, spoke.runtime().id(), toHub.ring(), now);
        }

        String lookup(int index, long now) {
            Partner p = hub().runtime().sessions().lookup(index, hub(), now);
            return p == null ? null : p.peer().name();
        }
    }

    @Test
    void findsEachSpokeByTheIndexItSentInO1() {
        Hub h = new Hub(1000);
        for (int i = 0; i < 1000; i++) {
            h.learn(i, 0x10000 + i, NOW);
        }
        for (int i = 0; i < 1000; i++) {
            assertEquals("s" + i, h.lookup(0x10000 + i, NOW));
        }
        assertNull(h.lookup(0x20000, NOW));
    }

    @Test
    void keepsTheLastEightIndicesOfEachSpoke() {
        Hub h = new Hub(2);
        for (int n = 0; n < 20; n++) {
            h.learn(0, 100 + n, NOW + n);
            h.learn(1, 200 + n, NOW + n);
        }
        for (int n = 0; n < 20; n++) {
            assertEquals(n >= 12 ? "s0" : null, h.lookup(100 + n, NOW + 20), "s0 index " + n);
            assertEquals(n >= 12 ? "s1" : null, h.lookup(200 + n, NOW + 20), "s1 index " + n);
        }
        List<Integer> live = new ArrayList<>();
        h.hub().runtime().sessions().forEachLive(NOW + 20, (index, owner) -> live.add(index));
        assertEquals(16, live.size());
    }

    @Test
    void theSameHandshakeSeenAgainRefreshesWithoutUsingASecondPlace() {
        Hub h = new Hub(1);
        for (int n = 0; n < 50; n++) {
            h.learn(0, 7, NOW + n * 1000L);
        }
        h.learn(0, 8, NOW);
        assertEquals("s0", h.lookup(7, NOW + 49_000 + SessionIndex.TTL_MILLIS - 1));
        assertEquals("s0", h.lookup(8, NOW + SessionIndex.TTL_MILLIS - 1));
        assertNull(h.lookup(8, NOW + SessionIndex.TTL_MILLIS));
    }

    @Test
    void expiryTurnsEntriesIntoTombstonesAndChangesTheVersion() {
        Hub h = new Hub(3);
        h.learn(0, 1, NOW);
        h.learn(1, 2, NOW + 10_000);
        SessionIndex index = h.hub().runtime().sessions();
        long before = index.version();

        index.expire(NOW + SessionIndex.TTL_MILLIS);

        assertNotEquals(before, index.version());
        assertNull(h.lookup(1, NOW));
        assertEquals("s1", h.lookup(2, NOW + SessionIndex.TTL_MILLIS));
        h.learn(2, 1, NOW + SessionIndex.TTL_MILLIS); // the tombstone's place is reused
        assertEquals("s2", h.lookup(1, NOW + SessionIndex.TTL_MILLIS));
    }

    @Test
    void twoSpokesWithTheSameIndexAreToldApartByThePartnerCheck() {
        Hub h = new Hub(2);
        h.learn(0, 0x55, NOW);
        h.learn(1, 0x55, NOW);
        assertEquals("s0", h.lookup(0x55, NOW), "the first recorded still answers");

        h.ok(h.roster.removeLink("h", "s0"));
        h.ok(h.roster.addLink("s0", "s1")); // s0 is now no partner of the hub
        h.rebuild();

        assertEquals("s1", h.lookup(0x55, NOW), "s0 is no partner any more: the other owner answers");
    }

    @Test
    void aHubThatGainsSpokesKeepsWhatItsIndexHeld() {
        Hub h = new Hub(2);
        h.learn(0, 42, NOW);
        SessionIndex small = h.hub().runtime().sessions();
        for (int i = 2; i < 300; i++) {
            h.add("t" + i, 1000 + i);
            h.ok(h.roster.addLink("h", "t" + i));
        }
        h.rebuild();

        SessionIndex grown = h.hub().runtime().sessions();
        assertNotEquals(small.capacity(), grown.capacity());
        assertEquals(SessionIndex.capacityFor(300), grown.capacity());
        assertEquals("s0", h.lookup(42, NOW));
    }

    @Test
    void aFloodOfIndicesFromOneSpokeNeverPushesOutAnothersEntries() {
        Hub h = new Hub(2);
        h.learn(1, 0xBEEF, NOW);
        for (int n = 0; n < 100_000; n++) {
            h.learn(0, n * 7919, NOW);
        }
        assertEquals("s1", h.lookup(0xBEEF, NOW));
        int[] live = {0};
        h.hub().runtime().sessions().forEachLive(NOW, (index, owner) -> live[0]++);
        assertEquals(9, live[0], "eight of s0's and s1's one");
    }

    @Test
    void theTableReachesTheHubsSessionsThroughItsVisitor() {
        Hub h = new Hub(3);
        h.learn(2, 9, NOW);
        List<String> seen = new ArrayList<>();
        h.table.forEachLiveSession(
                NOW,
                (hub, index, owner) -> seen.add(
                        hub.peer().name() + " " + index + " " + owner.peer().name()));
        assertEquals(List.of("h 9 s2"), seen);
        assertSame(h.hub(), h.table.hubs().get(0));
    }
}
