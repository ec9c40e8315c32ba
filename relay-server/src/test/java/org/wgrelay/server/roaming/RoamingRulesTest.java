package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.roaming.RoamingHarness.ALICE;
import static org.wgrelay.server.roaming.RoamingHarness.ALICE_KEY;
import static org.wgrelay.server.roaming.RoamingHarness.ALICE_NEW;
import static org.wgrelay.server.roaming.RoamingHarness.BOB;
import static org.wgrelay.server.roaming.RoamingHarness.BOB_KEY;
import static org.wgrelay.server.roaming.RoamingHarness.MALLORY;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;

/**
 * SPEC forwarding rules 3 (unknown sources), 5 (MAC1), 8 (mirroring, voiding) and 9
 * (commit), and the candidate timer, with alice roaming from ALICE to ALICE_NEW while
 * linked to bob. Alice's initiations to bob carry a MAC1 made with bob's key.
 */
class RoamingRulesTest {
    private static final int INIT_INDEX = 0x11111111;
    private static final int BOB_INDEX = 0x22222222;
    private RoamingHarness relay;

    @BeforeEach
    void start() throws Exception {
        relay = new RoamingHarness();
    }

    @AfterEach
    void stop() throws Exception {
        relay.close();
    }

    /** Alice at her new address starts a handshake; bob answers it. */
    private void aliceRoamsAndBobAnswers() {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        assertEquals(List.of(BOB), relay.sent(), "the candidate's initiation goes to bob");
        relay.receive(relay.response(BOB_INDEX, INIT_INDEX, ALICE_KEY), BOB);
        assertEquals(List.of(ALICE_NEW, ALICE), relay.sent(), "bob's answer is mirrored to the candidate");
    }

    @Test
    void registersACandidateWhenAnUnknownSourcesInitiationCarriesAMac1ForThePartnersKey() {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);

        assertEquals(List.of(BOB), relay.sent());
        Candidate c = relay.engine.candidateOf("alice");
        assertEquals(RoamingHarness.ep(ALICE_NEW), c.endpoint());
        assertEquals(INIT_INDEX, c.senderIndex());
        assertEquals(RoamingHarness.ep(ALICE), relay.endpointOf("alice"), "the committed endpoint is unchanged");
        assertEquals(1, relay.count(RelayCounter.FWD_PACKETS));
    }

    @Test
    void dropsAnUnknownSourcesInitiationThatMatchesNoStampedKey() {
        relay.receive(relay.init(INIT_INDEX, RoamingHarness.key(99)), MALLORY);

        assertEquals(List.of(), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH));
        assertNull(relay.engine.candidateOf("alice"));
    }

    @Test
    void aMatchOnAPeerWithoutALinkIdentifiesNobody() {
        relay.roster.addPeer(
                "carol", RoamingHarness.ep(RoamingHarness.address("192.0.2.99", 1)), RoamingHarness.key(3), null);
        relay.receive(relay.init(INIT_INDEX, RoamingHarness.key(3)), MALLORY);

        assertEquals(1, relay.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH));
    }

    @Test
    void forwardsASameSourceRetryAtMostOncePerSecondAndRefreshesItsSenderIndex() {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        relay.sent();
        relay.advance(500);
        relay.receive(relay.init(INIT_INDEX + 1, BOB_KEY), ALICE_NEW);
        assertEquals(List.of(), relay.sent(), "a retry within a second is dropped");
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        assertEquals(INIT_INDEX + 1, relay.engine.candidateOf("alice").senderIndex());

        relay.advance(600);
        relay.receive(relay.init(INIT_INDEX + 2, BOB_KEY), ALICE_NEW);
        assertEquals(List.of(BOB), relay.sent());
        assertEquals(INIT_INDEX + 2, relay.engine.candidateOf("alice").senderIndex());
    }

    @Test
    void dropsAnInitiationFromASecondSourceContestingALiveCandidate() {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        relay.sent();
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), MALLORY);

        assertEquals(List.of(), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        assertEquals(
                RoamingHarness.ep(ALICE_NEW), relay.engine.candidateOf("alice").endpoint());
    }

    @Test
    void dropsResponsesCookiesAndTransportFromAnUnansweredOrUnknownSource() {
        relay.receive(relay.response(1, 2, ALICE_KEY), MALLORY);
        relay.receive(relay.cookie(), MALLORY);
        relay.receive(relay.transport(5), MALLORY);
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        relay.sent();
        relay.receive(relay.transport(BOB_INDEX), ALICE_NEW); // candidate not answered yet

        assertEquals(List.of(), relay.sent());
        assertEquals(4, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
    }

    @Test
    void mirrorsThePartnersResponseToTheCandidateAndMarksItAnsweredOnAMatchingReceiverIndex() {
        aliceRoamsAndBobAnswers();

        Candidate c = relay.engine.candidateOf("alice");
        assertTrue(c.isAnswered());
        assertEquals(BOB_INDEX, c.answerIndex());
        assertEquals(2, relay.count(RelayCounter.FWD_PACKETS), "the mirror is not counted again");
    }

    @Test
    void aResponseToAnotherHandshakeIsMirroredButDoesNotAnswerTheCandidate() {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        relay.sent();
        relay.receive(relay.response(BOB_INDEX, 0x7777, ALICE_KEY), BOB);

        assertEquals(List.of(ALICE_NEW, ALICE), relay.sent());
        assertTrue(!relay.engine.candidateOf("alice").isAnswered());
    }

    @Test
    void forwardsTheAnsweredCandidatesTransportDataAtMostOncePerSecondWithoutCommitting() {
        aliceRoamsAndBobAnswers();
        relay.receive(relay.transport(BOB_INDEX), ALICE_NEW);
        relay.receive(relay.transport(BOB_INDEX), ALICE_NEW);

        assertEquals(List.of(BOB), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        assertEquals(RoamingHarness.ep(ALICE), relay.endpointOf("alice"), "the candidate's own data never commits");
        relay.advance(1000);
        relay.receive(relay.transport(BOB_INDEX), ALICE_NEW);
        assertEquals(List.of(BOB), relay.sent());
    }

    @Test
    void commitsOnThePartnersTransportDataToTheCandidatesSessionAndDeliversItThere() throws Exception {
        aliceRoamsAndBobAnswers();
        relay.receive(relay.transport(INIT_INDEX), BOB);

        assertEquals(List.of(ALICE_NEW), relay.sent(), "the deciding packet goes to the new endpoint");
        assertEquals(RoamingHarness.ep(ALICE_NEW), relay.endpointOf("alice"));
        assertTrue(relay.fileText().contains("peer alice " + RoamingHarness.ep(ALICE_NEW)), relay.fileText());
        assertEquals(1, relay.peerCount("alice", PeerCounter.ENDPOINT_RELEARN));
        assertTrue(relay.events.stream().anyMatch(e -> e.startsWith("state.wg.relearn")), relay.events.toString());
        assertNull(relay.engine.candidateOf("alice"));

        relay.receive(relay.transport(INIT_INDEX), BOB);
        relay.receive(relay.transport(BOB_INDEX), ALICE_NEW);
        assertEquals(List.of(ALICE_NEW, BOB), relay.sent(), "the new endpoint is the registered one now");
        relay.receive(relay.transport(BOB_INDEX), ALICE);
        assertEquals(List.of(), relay.sent(), "the old endpoint is an unknown source");
    }

    @Test
    void aReplayedInitiationAnsweredByThePartnerNeverCommitsAndExpiresAsAStrike() {
        // Mallory replays a captured initiation of alice's; bob (who never saw it) answers.
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), MALLORY);
        relay.receive(relay.response(BOB_INDEX, INIT_INDEX, ALICE_KEY), BOB);
        relay.sent();
        // Mallory cannot decrypt; any type-4-shaped datagram it sends is only passed to bob.
        relay.receive(relay.transport(BOB_INDEX), MALLORY);
        relay.advance(1000);
        relay.receive(relay.transport(BOB_INDEX), MALLORY);
        assertEquals(List.of(BOB, BOB), relay.sent());
        assertEquals(RoamingHarness.ep(ALICE), relay.endpointOf("alice"));

        relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
        relay.engine.sweep();
        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(1, relay.strikes.totalStrikes(MALLORY.getAddress()));
        assertNull(relay.engine.candidateOf("alice"));
        assertEquals(RoamingHarness.ep(ALICE), relay.endpointOf("alice"));
    }

    @Test
    void retriesDoNotExtendTheCandidatesThirtySeconds() {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        relay.advance(20_000);
        relay.receive(relay.init(INIT_INDEX + 1, BOB_KEY), ALICE_NEW);
        relay.advance(10_000);
        relay.engine.sweep();
        relay.sent();

        assertNull(relay.engine.candidateOf("alice"));
        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
    }

    @Test
    void aSecondFailedCandidateWithinAMinuteBlocksTheSourceForSixtySeconds() {
        for (int i = 0; i < 2; i++) {
            relay.receive(relay.init(INIT_INDEX + i, BOB_KEY), MALLORY);
            relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
            relay.engine.sweep();
        }
        relay.sent();

        assertTrue(relay.blocklist.isBlocked(MALLORY.getAddress(), relay.clock.get()));
        assertTrue(relay.blocklist.isBlocked(MALLORY.getAddress(), relay.clock.get() + 59_000));
        assertTrue(!relay.blocklist.isBlocked(MALLORY.getAddress(), relay.clock.get() + 60_000));
        assertTrue(relay.events.stream().anyMatch(e -> e.startsWith("state.wg.blocklist_added")));
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), MALLORY);
        assertEquals(1, relay.count(RelayCounter.DROP_BLOCKLISTED));
    }

    @Test
    void theCommittedEndpointResendingTheSameInitiationVoidsTheCandidate() {
        // An on-path copy of alice's live initiation, sent from another address.
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), MALLORY);
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE);
        relay.sent();

        assertNull(relay.engine.candidateOf("alice"));
        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(1, relay.strikes.totalStrikes(MALLORY.getAddress()));
    }

    @Test
    void theCommittedEndpointsTransportDataOnTheAnsweredSessionVoidsTheCopyBeforeBobsDataCouldCommitIt() {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), MALLORY);
        relay.receive(relay.response(BOB_INDEX, INIT_INDEX, ALICE_KEY), BOB);
        // The real alice completes the handshake from her registered endpoint.
        relay.receive(relay.transport(BOB_INDEX), ALICE);
        relay.receive(relay.transport(INIT_INDEX), BOB);

        assertEquals(List.of(BOB, MALLORY, ALICE, BOB, ALICE), relay.sent());
        assertEquals(RoamingHarness.ep(ALICE), relay.endpointOf("alice"));
        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
    }

    @Test
    void noNewCandidateWithinFiveSecondsOfARelearn() {
        aliceRoamsAndBobAnswers();
        relay.receive(relay.transport(INIT_INDEX), BOB);
        relay.sent();
        InetSocketAddress third = RoamingHarness.address("203.0.113.78", 42000);
        relay.advance(4_000);
        relay.receive(relay.init(INIT_INDEX + 5, BOB_KEY), third);
        assertEquals(List.of(), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        relay.advance(1_000);
        relay.receive(relay.init(INIT_INDEX + 6, BOB_KEY), third);
        assertEquals(List.of(BOB), relay.sent());
    }

    @Test
    void dropsAnInitiationFromARegisteredPeerWhoseMac1DoesNotVerifyAgainstThePartnersKey() {
        relay.receive(relay.init(INIT_INDEX, RoamingHarness.key(42)), ALICE);

        assertEquals(List.of(), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_HANDSHAKE_PUBKEY_MISMATCH));
        assertEquals(1, relay.peerCount("alice", PeerCounter.DROP_PUBKEY_MISMATCH));
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE);
        assertEquals(List.of(BOB), relay.sent());
    }

    @Test
    void aCandidateSeenOnOneWorkerIsAnsweredAndCommittedFromAnother() {
        relay.receive(relay.worker0, relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        relay.receive(relay.worker1, relay.response(BOB_INDEX, INIT_INDEX, ALICE_KEY), BOB);
        relay.receive(relay.worker0, relay.transport(BOB_INDEX), ALICE_NEW);
        relay.receive(relay.worker1, relay.transport(INIT_INDEX), BOB);
        relay.sent();

        assertEquals(RoamingHarness.ep(ALICE_NEW), relay.endpointOf("alice"));
    }
}
