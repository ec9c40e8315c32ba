package org.wgrelay.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MapSyncTest {
    private final FakeHelper helper = new FakeHelper();
    private final MapSync sync = new MapSync(helper, () -> 0L);

    private static XdpState state(Map<String, XdpPeer> peers, Map<String, Long> blocklist) {
        return new XdpState(51820, Map.of(3, new XdpNic("eth0", 3, "10.0.0.1", "02:00:00:00:00:01")), peers, blocklist);
    }

    private static Map<String, XdpPeer> linked(XdpPeer... peers) {
        Map<String, XdpPeer> m = new HashMap<>();
        for (XdpPeer p : peers) {
            m.put(p.key(), p);
        }
        return m;
    }

    private static final XdpPeer A = new XdpPeer("10.1.0.1", 4000, "10.2.0.1", 5000, 0, false, false);
    private static final XdpPeer B = new XdpPeer("10.2.0.1", 5000, "10.1.0.1", 4000, 0, false, false);

    @Test
    void theFirstApplyReadsTheMapsBackAndWritesEverythingTheyLack() {
        assertTrue(sync.apply(state(linked(A, B), Map.of("192.0.2.9", 60L))));

        assertEquals("dump", helper.commands.get(0));
        assertFalse(helper.commands.contains("clear"), helper.commands.toString());
        assertEquals(51820, helper.port);
        assertEquals(Map.of("3", "10.0.0.1 02:00:00:00:00:01"), helper.nics);
        assertEquals("10.2.0.1 5000 0 0", helper.peers.get("10.1.0.1 4000"));
        assertEquals("10.1.0.1 4000 0 0", helper.peers.get("10.2.0.1 5000"));
        assertEquals(Map.of("192.0.2.9", "60"), helper.blocklist);
    }

    @Test
    void laterAppliesSendOnlyTheDifference() {
        sync.apply(state(linked(A, B), Map.of()));
        helper.commands.clear();

        XdpPeer aPassing = new XdpPeer("10.1.0.1", 4000, "10.2.0.1", 5000, 0, true, false);
        sync.apply(state(linked(aPassing, B), Map.of()));

        assertEquals(1, helper.commands.size(), helper.commands.toString());
        assertTrue(helper.commands.get(0).startsWith("peer 10.1.0.1 4000 10.2.0.1 5000 0 1 "));
        helper.commands.clear();
        sync.apply(state(linked(aPassing, B), Map.of()));
        assertEquals(List.of(), helper.commands, "nothing changed, nothing sent");
    }

    @Test
    void aBlockedPeersFlagIsWrittenBeforeItsBlocklistEntry() {
        sync.apply(state(linked(A, B), Map.of()));
        helper.commands.clear();

        XdpPeer aChecked = new XdpPeer("10.1.0.1", 4000, "10.2.0.1", 5000, 0, false, true);
        sync.apply(state(linked(aChecked, B), Map.of("10.1.0.1", 60L)));

        assertEquals(2, helper.commands.size(), helper.commands.toString());
        assertTrue(helper.commands.get(0).startsWith("peer 10.1.0.1 4000 10.2.0.1 5000 0 2 "), helper.commands.get(0));
        assertEquals("block 10.1.0.1 60", helper.commands.get(1));
        assertEquals(3, new XdpPeer("10.1.0.1", 4000, "10.2.0.1", 5000, 0, true, true).flags());
    }

    @Test
    void itNamesThePeerEntriesAnApplyWouldTakeOutWithTheirCounts() {
        assertEquals(Set.of(), sync.peersRemovedBy(state(linked(A, B), Map.of())), "nothing pushed yet");
        sync.apply(state(linked(A, B), Map.of()));

        XdpPeer aPassing = new XdpPeer("10.1.0.1", 4000, "10.2.0.1", 5000, 0, true, false);
        assertEquals(Set.of(), sync.peersRemovedBy(state(linked(aPassing, B), Map.of())), "an upsert keeps the entry");
        assertEquals(
                Set.of(), sync.peersRemovedBy(state(linked(A, B), Map.of("10.9.9.9", 5L))), "a block removes none");
        assertEquals(Set.of(B.key()), sync.peersRemovedBy(state(linked(A), Map.of())), "B goes");

        sync.reset();
        assertEquals(
                Set.of(B.key()),
                sync.peersRemovedBy(state(linked(A), Map.of())),
                "a resync takes out what the maps hold and the model lacks");
        assertEquals(Set.of(B.key()), sync.peersRemovedBy(state(linked(A), Map.of())), "read back once per resync");
        assertEquals(
                2,
                helper.commands.stream().filter("dump"::equals).count(),
                "one read-back for the first apply, one for this resync: " + helper.commands);
    }

    @Test
    void aResyncOfMapsThatCannotBeReadBackClearsEveryEntry() {
        sync.apply(state(linked(A, B), Map.of()));
        helper.dumps = false;
        sync.reset();
        assertEquals(
                Set.of(A.key(), B.key()),
                sync.peersRemovedBy(state(linked(A, B), Map.of())),
                "a clear takes out every entry, even those it writes again");
        helper.commands.clear();
        assertTrue(sync.apply(state(linked(A, B), Map.of())));
        assertEquals("clear", helper.commands.get(0), helper.commands.toString());
        assertEquals(2, helper.peers.size());
    }

    @Test
    void anAdoptedProgramsEntriesStayUntouchedWhenWantedAndGoWhenNot() {
        // what a kept program's maps hold when a new relay adopts it
        helper.port = 51820;
        helper.nics.put("3", "10.0.0.1 02:00:00:00:00:01");
        helper.peers.put("10.1.0.1 4000", "10.2.0.1 5000 0 0");
        helper.peers.put("10.2.0.1 5000", "10.1.0.1 4000 0 0");
        helper.peers.put("10.3.0.1 4000", "10.4.0.1 5000 0 0"); // a peer removed while no relay ran
        helper.blocklist.put("192.0.2.9", "30");
        helper.sessions.put("10.5.0.1 5000 7", "10.6.0.1 6001 0");

        assertEquals(Set.of("10.3.0.1 4000"), sync.peersRemovedBy(state(linked(A, B), Map.of())));
        assertTrue(sync.apply(state(linked(A, B), Map.of())));

        assertEquals(
                List.of("dump", "unsession 10.5.0.1 5000 7", "unpeer 10.3.0.1 4000", "unblock 192.0.2.9"),
                helper.commands,
                "entries the model has are not rewritten: the kernel forwards on without a pause");
        assertEquals(Set.of(A.key(), B.key()), helper.peers.keySet());
    }

    @Test
    void removedPeersAndUnblockedIpsAreTakenOut() {
        sync.apply(state(linked(A, B), Map.of("192.0.2.9", 60L)));
        sync.apply(state(linked(), Map.of()));

        assertEquals(Map.of(), helper.peers);
        assertEquals(Map.of(), helper.blocklist);
    }

    @Test
    void aFailedWriteIsCountedAndTheNextApplyResyncsEverything() {
        helper.failWhen = c -> c.startsWith("peer 10.2.0.1");
        assertFalse(sync.apply(state(linked(A, B), Map.of())));
        assertEquals(1, sync.failedWrites());

        helper.failWhen = c -> false;
        helper.commands.clear();
        assertTrue(sync.apply(state(linked(A, B), Map.of())));
        assertEquals("dump", helper.commands.get(0));
        assertEquals(2, helper.peers.size());
    }

    @Test
    void aRestartedHelperIsResyncedInFullAfterReset() {
        sync.apply(state(linked(A, B), Map.of()));
        FakeHelper fresh = helper; // the same fake, emptied as a new process would be
        fresh.peers.clear();
        sync.reset();
        sync.apply(state(linked(A, B), Map.of()));
        assertEquals(2, fresh.peers.size());
    }

    private static XdpState withSessions(Map<String, XdpPeer> peers, XdpSession... sessions) {
        Map<String, XdpSession> m = new HashMap<>();
        for (XdpSession s : sessions) {
            m.put(s.key(), s);
        }
        return new XdpState(
                51820, Map.of(3, new XdpNic("eth0", 3, "10.0.0.1", "02:00:00:00:00:01")), peers, Map.of(), m);
    }

    private static final XdpPeer HUB = XdpPeer.hub("10.5.0.1", 5000, false, false);
    private static final XdpPeer SPOKE1 = new XdpPeer("10.6.0.1", 6001, "10.5.0.1", 5000, 0, false, false, false, true);
    private static final XdpPeer SPOKE2 = new XdpPeer("10.6.0.2", 6002, "10.5.0.1", 5000, 0, false, false, false, true);
    private static final XdpSession TO_SPOKE1 = new XdpSession("10.5.0.1", 5000, 0x11223344, "10.6.0.1", 6001, 0);
    /** An index above 2^31: negative as a Java int, unsigned in the protocol. */
    private static final XdpSession TO_SPOKE2 = new XdpSession("10.5.0.1", 5000, 0xfffffffe, "10.6.0.2", 6002, 3);

    @Test
    void aHubIsWrittenWithoutAPartnerItsSpokesFlaggedAndEverySessionWithItsIndexUnsigned() {
        assertTrue(sync.apply(withSessions(linked(HUB, SPOKE1, SPOKE2), TO_SPOKE1, TO_SPOKE2)));

        assertEquals("0.0.0.0 0 0 " + XdpPeer.FLAG_HUB, helper.peers.get("10.5.0.1 5000"));
        assertEquals("10.5.0.1 5000 0 " + XdpPeer.FLAG_PARTNER_HUB, helper.peers.get("10.6.0.1 6001"));
        assertEquals(
                Map.of("10.5.0.1 5000 287454020", "10.6.0.1 6001 0", "10.5.0.1 5000 4294967294", "10.6.0.2 6002 3"),
                helper.sessions);
    }

    @Test
    void sessionsAreWrittenBeforeTheHubsEntryAndRemovedBeforeTheirSpokesEntry() {
        sync.apply(withSessions(linked(HUB, SPOKE1, SPOKE2), TO_SPOKE1, TO_SPOKE2));
        List<String> first = List.copyOf(helper.commands);
        int hubAt = first.indexOf("peer 10.5.0.1 5000 0.0.0.0 0 0 4 1");
        assertTrue(hubAt > 0, first.toString());
        assertEquals(
                2,
                first.subList(0, hubAt).stream()
                        .filter(c -> c.startsWith("session "))
                        .count(),
                "both sessions before the hub's entry: " + first);

        helper.commands.clear();
        sync.apply(withSessions(linked(HUB, SPOKE1), TO_SPOKE1));
        assertEquals(List.of("unsession 10.5.0.1 5000 4294967294", "unpeer 10.6.0.2 6002"), helper.commands);
    }

    @Test
    void sessionsAreDiffedLikePeers() {
        sync.apply(withSessions(linked(HUB, SPOKE1, SPOKE2), TO_SPOKE1));
        helper.commands.clear();

        sync.apply(withSessions(linked(HUB, SPOKE1, SPOKE2), TO_SPOKE1));
        assertEquals(List.of(), helper.commands, "nothing changed, nothing sent");

        XdpSession movedToSpoke2 = new XdpSession("10.5.0.1", 5000, 0x11223344, "10.6.0.2", 6002, 0);
        sync.apply(withSessions(linked(HUB, SPOKE1, SPOKE2), movedToSpoke2, TO_SPOKE2));
        assertEquals(2, helper.commands.size(), helper.commands.toString());
        assertTrue(
                helper.commands.contains("session 10.5.0.1 5000 287454020 10.6.0.2 6002 0"),
                helper.commands.toString());
        assertTrue(
                helper.commands.contains("session 10.5.0.1 5000 4294967294 10.6.0.2 6002 3"),
                helper.commands.toString());

        helper.commands.clear();
        sync.apply(withSessions(linked(HUB, SPOKE1, SPOKE2)));
        assertEquals(Map.of(), helper.sessions);
        assertEquals(2, helper.commands.size(), helper.commands.toString());
    }

    @Test
    void aFailedSessionWriteResyncsEverythingSessionsIncluded() {
        helper.failWhen = c -> c.startsWith("session ");
        assertFalse(sync.apply(withSessions(linked(HUB, SPOKE1), TO_SPOKE1)));
        assertEquals(1, sync.failedWrites());

        helper.failWhen = c -> false;
        helper.commands.clear();
        helper.sessions.put("10.9.9.9 1 1", "stale 1 0"); // what a half-done write may leave
        assertTrue(sync.apply(withSessions(linked(HUB, SPOKE1), TO_SPOKE1)));
        assertEquals("dump", helper.commands.get(0));
        assertTrue(helper.commands.contains("unsession 10.9.9.9 1 1"), helper.commands.toString());
        assertEquals(Map.of("10.5.0.1 5000 287454020", "10.6.0.1 6001 0"), helper.sessions);
    }

    @Test
    void aHubEntryCannotCarryAPartner() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new XdpPeer("10.5.0.1", 5000, "10.6.0.1", 6001, 0, false, false, true, false));
        assertEquals(
                XdpPeer.FLAG_HUB | XdpPeer.FLAG_PASS | XdpPeer.FLAG_BLOCK_CHECK,
                XdpPeer.hub("10.5.0.1", 5000, true, true).flags());
        assertEquals("10.5.0.1 5000 4294967295", new XdpSession("10.5.0.1", 5000, -1, "10.6.0.1", 1, 0).key());
    }

    @Test
    void aDeadHelperCountsFailuresWithoutThrowing() {
        helper.alive = false;
        assertFalse(sync.apply(state(linked(A, B), Map.of())));
        assertTrue(sync.failedWrites() > 0);
    }

    @Test
    void randomSequencesOfStatesLeaveTheMapsEqualToTheLastState() {
        Random r = new Random(5);
        Map<String, XdpPeer> last = Map.of();
        Map<String, Long> lastBlock = Map.of();
        Map<String, XdpSession> lastSessions = Map.of();
        for (int step = 0; step < 500; step++) {
            Map<String, XdpPeer> peers = new HashMap<>();
            for (int i = 0; i < r.nextInt(20); i++) {
                XdpPeer p = new XdpPeer(
                        "10.0." + r.nextInt(3) + "." + r.nextInt(5),
                        1000 + r.nextInt(3),
                        "10.9.0." + r.nextInt(4),
                        2000,
                        r.nextInt(2),
                        r.nextBoolean(),
                        r.nextBoolean());
                peers.put(p.key(), p);
            }
            Map<String, Long> block = new HashMap<>();
            for (int i = 0; i < r.nextInt(4); i++) {
                block.put("192.0.2." + r.nextInt(6), 60L);
            }
            Map<String, XdpSession> sessions = new HashMap<>();
            for (int i = 0; i < r.nextInt(12); i++) {
                XdpSession s = new XdpSession(
                        "10.5.0." + r.nextInt(2),
                        5000,
                        r.nextInt(4) * 0x40000001,
                        "10.6.0." + r.nextInt(4),
                        6000 + r.nextInt(2),
                        r.nextInt(2));
                sessions.put(s.key(), s);
            }
            int failing = r.nextInt(20);
            helper.failWhen = failing == 0
                    ? c -> c.startsWith("peer")
                    : failing == 1 ? c -> c.startsWith("unsession") : c -> false;
            sync.apply(new XdpState(51820, Map.of(), peers, block, sessions));
            last = peers;
            lastBlock = block;
            lastSessions = sessions;
        }
        helper.failWhen = c -> false;
        sync.apply(new XdpState(51820, Map.of(), last, lastBlock, lastSessions));
        Map<String, String> expected = new HashMap<>();
        last.values()
                .forEach(p -> expected.put(
                        p.key(), p.partnerIp() + " " + p.partnerPort() + " " + p.egressIfindex() + " " + p.flags()));
        assertEquals(expected, helper.peers);
        assertEquals(lastBlock.keySet(), helper.blocklist.keySet());
        Map<String, String> expectedSessions = new HashMap<>();
        lastSessions
                .values()
                .forEach(s ->
                        expectedSessions.put(s.key(), s.ownerIp() + " " + s.ownerPort() + " " + s.egressIfindex()));
        assertEquals(expectedSessions, helper.sessions);
    }
}
