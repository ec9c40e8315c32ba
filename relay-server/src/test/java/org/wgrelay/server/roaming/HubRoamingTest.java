package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;

/**
 * SPEC B, spokes roam: alice is a hub with spokes bob, carol and dave. An initiation from an
 * unknown source whose MAC1 names alice waits unidentified until alice's response names the
 * spoke by its MAC1; then rules 8 and 9 and voiding decide as for any peer.
 */
class HubRoamingTest {
    static final InetSocketAddress ALICE = RoamingHarness.ALICE;
    static final InetSocketAddress BOB = RoamingHarness.BOB;
    static final InetSocketAddress CAROL = HubRoutingTest.CAROL;
    static final InetSocketAddress DAVE = HubRoutingTest.DAVE;
    static final InetSocketAddress CAROL_NEW = RoamingHarness.address("203.0.113.33", 43000);
    static final InetSocketAddress MALLORY = RoamingHarness.MALLORY;
    static final String HUB_KEY = RoamingHarness.ALICE_KEY;
    static final String CAROL_KEY = HubRoutingTest.CAROL_KEY;

    RoamingHarness relay;

    @BeforeEach
    void hubWithThreeSpokes() throws Exception {
        relay = new RoamingHarness(Runnable::run, 4);
        assertTrue(relay.roster
                .addPeer("carol", RoamingHarness.ep(CAROL), CAROL_KEY, null)
                .ok());
        assertTrue(relay.roster
                .addPeer("dave", RoamingHarness.ep(DAVE), HubRoutingTest.DAVE_KEY, null)
                .ok());
        assertTrue(relay.roster.addLink("alice", "carol").ok());
        assertTrue(relay.roster.addLink("alice", "dave").ok());
    }

    @AfterEach
    void close() throws Exception {
        relay.close();
    }

    /** Carol, now at CAROL_NEW, initiates (index 0x77); alice answers (index 0xA9). */
    private void carolRoamsAndTheHubAnswers() {
        relay.receive(relay.init(0x77, HUB_KEY), CAROL_NEW);
        assertEquals(List.of(ALICE), relay.sent(), "forwarded to the hub its MAC1 names");
        assertNull(relay.engine.candidateOf("carol"), "not yet anyone's");

        relay.receive(relay.response(0xA9, 0x77, CAROL_KEY), ALICE);

        assertEquals(List.of(CAROL_NEW, CAROL), relay.sent(), "mirrored to the candidate and sent to carol's endpoint");
        assertEquals(
                RoamingHarness.ep(CAROL_NEW), relay.engine.candidateOf("carol").endpoint());
        assertTrue(relay.engine.candidateOf("carol").isAnswered());
    }

    @Test
    void theHubsResponseIdentifiesTheSpokeAndTheHubsTransportDataCommitsIt() throws Exception {
        carolRoamsAndTheHubAnswers();
        relay.receive(relay.transport(0xA9), CAROL_NEW); // carol's first data: passed to the hub, no commit
        assertEquals(List.of(ALICE), relay.sent());
        assertEquals(RoamingHarness.ep(CAROL), relay.endpointOf("carol"));

        relay.receive(relay.transport(0x77), ALICE);

        assertEquals(List.of(CAROL_NEW), relay.sent(), "the deciding packet goes to the new endpoint");
        assertEquals(RoamingHarness.ep(CAROL_NEW), relay.endpointOf("carol"));
        assertEquals(1, relay.peerCount("carol", PeerCounter.ENDPOINT_RELEARN));
        assertTrue(relay.fileText().contains("peer carol " + RoamingHarness.ep(CAROL_NEW)), relay.fileText());
        relay.receive(relay.transport(0xA9), CAROL_NEW);
        relay.receive(relay.transport(0x77), ALICE);
        assertEquals(List.of(ALICE, CAROL_NEW), relay.sent(), "carol's new endpoint is the registered one");
    }

    @Test
    void aSpokeRegisteredByKeyOnlyEnrollsThroughTheHub() throws Exception {
        InetSocketAddress ivanNat = RoamingHarness.address("203.0.113.99", 44000);
        String ivanKey = RoamingHarness.key(9);
        assertTrue(relay.roster.addPeer("ivan", null, ivanKey, null).ok());
        assertTrue(relay.roster.addLink("alice", "ivan").ok());

        relay.receive(relay.init(0x90, HUB_KEY), ivanNat);
        relay.receive(relay.response(0xA0, 0x90, ivanKey), ALICE);
        assertEquals(List.of(ALICE, ivanNat), relay.sent(), "the response reaches the candidate once");
        relay.receive(relay.transport(0xA0), ivanNat);
        relay.receive(relay.transport(0x90), ALICE);

        assertEquals(List.of(ALICE, ivanNat), relay.sent());
        assertEquals(RoamingHarness.ep(ivanNat), relay.endpointOf("ivan"));
        assertEquals(1, relay.peerCount("ivan", PeerCounter.ENDPOINT_RELEARN));
    }

    @Test
    void theOtherSpokesAreUnaffectedWhileOneRoams() {
        relay.receive(relay.init(0xB1, HUB_KEY), BOB);
        relay.receive(relay.response(0xA1, 0xB1, RoamingHarness.BOB_KEY), ALICE);
        relay.sent();
        carolRoamsAndTheHubAnswers();

        relay.receive(relay.transport(0xB1), ALICE);
        relay.receive(relay.transport(0xA1), BOB);
        relay.receive(relay.transport(0x77), ALICE);

        assertEquals(List.of(BOB, ALICE, CAROL_NEW), relay.sent());
        assertEquals(RoamingHarness.ep(BOB), relay.endpointOf("bob"));
        assertEquals(RoamingHarness.ep(DAVE), relay.endpointOf("dave"));
        assertEquals(0, relay.peerCount("bob", PeerCounter.ENDPOINT_RELEARN));
    }

    @Test
    void aCopyOfALiveInitiationIsVoidedWhenTheSpokesOwnArrivesFromItsEndpoint() {
        relay.receive(relay.init(0x55, HUB_KEY), MALLORY); // the on-path copy, first
        relay.receive(relay.init(0x55, HUB_KEY), BOB); // the real one
        relay.receive(relay.response(0xA2, 0x55, RoamingHarness.BOB_KEY), ALICE);

        assertEquals(List.of(ALICE, ALICE, BOB), relay.sent(), "the response goes to bob only");
        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(1, relay.strikes.totalStrikes(MALLORY.getAddress()));
        assertNull(relay.engine.candidateOf("bob"));
    }

    @Test
    void aReplayTheIndexKnowsIsIdentifiedAndAnsweredByAHubThatNeverSawItYetNeverCommits() {
        relay.receive(relay.init(0x88, HUB_KEY), BOB); // forwarded long ago, the hub was down
        relay.sent();
        relay.receive(relay.init(0x88, HUB_KEY), MALLORY); // the replay

        relay.receive(relay.response(0xA8, 0x88, RoamingHarness.BOB_KEY), ALICE);

        assertEquals(List.of(ALICE, MALLORY, BOB), relay.sent(), "identified as bob's, mirrored to the replayer");
        assertTrue(relay.engine.candidateOf("bob").isAnswered());
        relay.receive(relay.transport(0xA8), MALLORY); // passed on, which the hub cannot decrypt
        assertEquals(List.of(ALICE), relay.sent());

        relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
        relay.engine.sweep();
        assertEquals(RoamingHarness.ep(BOB), relay.endpointOf("bob"));
        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(1, relay.strikes.totalStrikes(MALLORY.getAddress()));
    }

    @Test
    void aReplayThatNoResponseIdentifiesExpiresAsAStrikeAndNeverCommits() {
        relay.receive(relay.init(0x66, HUB_KEY), MALLORY);
        relay.receive(relay.transport(0x1234), MALLORY);
        relay.receive(relay.response(0xA3, 0x66, RoamingHarness.key(42)), ALICE); // names no spoke
        assertEquals(List.of(ALICE), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC), "an unidentified candidate's data");
        assertEquals(1, relay.count(RelayCounter.DROP_NO_ROUTE));

        relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
        relay.engine.sweep();

        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(1, relay.strikes.totalStrikes(MALLORY.getAddress()));
        for (String spoke : List.of("bob", "carol", "dave")) {
            assertEquals(0, relay.peerCount(spoke, PeerCounter.ENDPOINT_RELEARN), spoke);
        }
    }

    @Test
    void theSameSourceRetriesOneUnidentifiedCandidateForwardingAtMostOncePerSecond() {
        relay.receive(relay.init(0x10, HUB_KEY), CAROL_NEW);
        relay.receive(relay.init(0x11, HUB_KEY), CAROL_NEW);
        relay.advance(1000);
        relay.receive(relay.init(0x12, HUB_KEY), CAROL_NEW);
        assertEquals(List.of(ALICE, ALICE), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));

        relay.receive(relay.response(0xA4, 0x10, CAROL_KEY), ALICE); // answers the stale index
        assertEquals(List.of(), relay.sent());
        relay.receive(relay.response(0xA5, 0x12, CAROL_KEY), ALICE);
        assertEquals(List.of(CAROL_NEW, CAROL), relay.sent());
    }

    @Test
    void atMostSixtyFourUnidentifiedCandidatesWaitPerHub() {
        for (int i = 0; i < 65; i++) {
            relay.receive(relay.init(0x1000 + i, HUB_KEY), RoamingHarness.address("198.18.1." + i, 7000));
        }
        assertEquals(64, relay.sent().size());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));

        relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
        relay.engine.sweep();
        assertEquals(64, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        relay.receive(relay.init(0x2000, HUB_KEY), CAROL_NEW);
        assertEquals(List.of(ALICE), relay.sent(), "expired ones free their places");
    }
}
