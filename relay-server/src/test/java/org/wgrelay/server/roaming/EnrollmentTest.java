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
 * SPEC E with raw datagrams: erin is registered by key only and linked to frank, who has an
 * endpoint; gina and hank are both registered by key only and linked to each other. Every
 * bullet of the section: the candidate standing in, its limits, drop_no_endpoint, learning
 * when the peer initiates and when it answers, both unknown in one handshake, and forgeries.
 */
class EnrollmentTest {
    static final InetSocketAddress FRANK = RoamingHarness.address("192.0.2.60", 50060);
    static final InetSocketAddress ERIN_NAT = RoamingHarness.address("203.0.113.50", 40050);
    static final InetSocketAddress GINA_NAT = RoamingHarness.address("203.0.113.70", 40070);
    static final InetSocketAddress HANK_NAT = RoamingHarness.address("198.51.100.80", 40080);
    static final InetSocketAddress MALLORY = RoamingHarness.MALLORY;
    static final String ERIN_KEY = RoamingHarness.key(5);
    static final String FRANK_KEY = RoamingHarness.key(6);
    static final String GINA_KEY = RoamingHarness.key(7);
    static final String HANK_KEY = RoamingHarness.key(8);

    RoamingHarness relay;

    @BeforeEach
    void peersByKeyOnly() throws Exception {
        relay = new RoamingHarness();
        assertTrue(relay.roster.addPeer("erin", null, ERIN_KEY, null).ok());
        assertTrue(relay.roster
                .addPeer("frank", RoamingHarness.ep(FRANK), FRANK_KEY, null)
                .ok());
        assertTrue(relay.roster.addLink("erin", "frank").ok());
        assertTrue(relay.roster.addPeer("gina", null, GINA_KEY, null).ok());
        assertTrue(relay.roster.addPeer("hank", null, HANK_KEY, null).ok());
        assertTrue(relay.roster.addLink("gina", "hank").ok());
    }

    @AfterEach
    void close() throws Exception {
        relay.close();
    }

    @Test
    void withNeitherEndpointNorCandidateADatagramForThePeerIsDropNoEndpoint() {
        relay.receive(relay.transport(0x1), FRANK);
        relay.receive(relay.init(0x2, ERIN_KEY), FRANK);

        assertEquals(List.of(), relay.sent());
        assertEquals(2, relay.count(RelayCounter.DROP_NO_ENDPOINT));
        assertEquals(2, relay.peerCount("erin", PeerCounter.DROP_NO_ENDPOINT));
        assertEquals(0, relay.peerCount("frank", PeerCounter.DROP_NO_ENDPOINT));
    }

    @Test
    void thePeerInitiatesThePartnerAnswersAndThePartnersDataCommitsTheLearnedEndpoint() throws Exception {
        relay.receive(relay.init(0x11, FRANK_KEY), ERIN_NAT);
        assertEquals(List.of(FRANK), relay.sent());
        relay.receive(relay.response(0xF1, 0x11, ERIN_KEY), FRANK);
        assertEquals(List.of(ERIN_NAT), relay.sent(), "to the candidate standing in, once");
        assertTrue(relay.engine.candidateOf("erin").isAnswered());
        relay.receive(relay.transport(0xF1), ERIN_NAT);
        assertEquals(List.of(FRANK), relay.sent());
        assertNull(relay.endpointOf("erin"), "the peer's own data never commits");

        relay.receive(relay.transport(0x11), FRANK);

        assertEquals(List.of(ERIN_NAT), relay.sent());
        assertEquals(RoamingHarness.ep(ERIN_NAT), relay.endpointOf("erin"));
        assertEquals(1, relay.peerCount("erin", PeerCounter.ENDPOINT_RELEARN));
        assertTrue(relay.fileText().contains("peer erin " + RoamingHarness.ep(ERIN_NAT) + " " + ERIN_KEY));
    }

    @Test
    void thePartnerInitiatesThePeerAnswersFromItsCandidateAndThePartnersDataToTheAnswerCommits() {
        relay.receive(relay.init(0x21, FRANK_KEY), ERIN_NAT); // erin's candidate, lost on the way
        relay.receive(relay.init(0xF2, ERIN_KEY), FRANK);
        assertEquals(List.of(FRANK, ERIN_NAT), relay.sent(), "frank's initiation goes to erin's candidate");

        relay.receive(relay.response(0xE2, 0xF2, FRANK_KEY), ERIN_NAT);
        assertEquals(List.of(FRANK), relay.sent());
        assertTrue(relay.engine.candidateOf("erin").isAnswered());

        relay.receive(relay.transport(0xE2), FRANK);

        assertEquals(List.of(ERIN_NAT), relay.sent());
        assertEquals(RoamingHarness.ep(ERIN_NAT), relay.endpointOf("erin"));
        assertEquals(1, relay.peerCount("erin", PeerCounter.ENDPOINT_RELEARN));
    }

    @Test
    void twoUnknownPeersLearnEachOtherInOneHandshake() {
        relay.receive(relay.init(0x31, HANK_KEY), GINA_NAT);
        assertEquals(List.of(), relay.sent(), "hank has neither endpoint nor candidate yet");
        assertEquals(1, relay.peerCount("hank", PeerCounter.DROP_NO_ENDPOINT));
        relay.receive(relay.init(0x41, GINA_KEY), HANK_NAT);
        assertEquals(List.of(GINA_NAT), relay.sent(), "hank's initiation reaches gina's candidate");

        relay.receive(relay.response(0x32, 0x41, HANK_KEY), GINA_NAT);
        assertEquals(List.of(HANK_NAT), relay.sent());

        relay.receive(relay.transport(0x32), HANK_NAT); // the initiator's first data commits the responder
        assertEquals(List.of(GINA_NAT), relay.sent());
        assertEquals(RoamingHarness.ep(GINA_NAT), relay.endpointOf("gina"));
        assertNull(relay.endpointOf("hank"));

        relay.receive(relay.transport(0x41), GINA_NAT); // then the responder's commits the initiator
        assertEquals(List.of(HANK_NAT), relay.sent());
        assertEquals(RoamingHarness.ep(HANK_NAT), relay.endpointOf("hank"));
        assertEquals(1, relay.peerCount("gina", PeerCounter.ENDPOINT_RELEARN));
        assertEquals(1, relay.peerCount("hank", PeerCounter.ENDPOINT_RELEARN));

        relay.receive(relay.transport(0x41), GINA_NAT);
        relay.receive(relay.transport(0x32), HANK_NAT);
        assertEquals(List.of(HANK_NAT, GINA_NAT), relay.sent(), "both are registered peers now");
    }

    @Test
    void aCandidateStandsInForAtMostOneInitiationAndOneTransportDatagramASecond() {
        relay.receive(relay.init(0x51, FRANK_KEY), ERIN_NAT);
        relay.sent();
        relay.receive(relay.init(0xF5, ERIN_KEY), FRANK);
        relay.receive(relay.init(0xF6, ERIN_KEY), FRANK);
        relay.receive(relay.transport(0x7), FRANK);
        relay.receive(relay.transport(0x8), FRANK);
        assertEquals(List.of(ERIN_NAT, ERIN_NAT), relay.sent());
        assertEquals(2, relay.count(RelayCounter.DROP_NO_ENDPOINT));

        relay.advance(1000);
        relay.receive(relay.init(0xF7, ERIN_KEY), FRANK);
        relay.receive(relay.transport(0x9), FRANK);
        assertEquals(List.of(ERIN_NAT, ERIN_NAT), relay.sent());
    }

    @Test
    void mallorysAnswerToTheInitiationInThePeersPlaceNeverCommits() {
        relay.receive(relay.init(0x66, FRANK_KEY), MALLORY); // forged with frank's public key
        relay.receive(relay.init(0xF8, ERIN_KEY), FRANK);
        relay.receive(relay.response(0x99, 0x1234, FRANK_KEY), MALLORY); // not frank's index: nothing
        relay.receive(relay.response(0x99, 0xF8, FRANK_KEY), MALLORY); // frank rejects it, sends no data
        relay.receive(relay.transport(0xF8), MALLORY);
        relay.advance(1000);
        relay.receive(relay.transport(0xF8), MALLORY);
        relay.sent();
        assertNull(relay.endpointOf("erin"));

        relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
        relay.engine.sweep();

        assertNull(relay.endpointOf("erin"));
        assertNull(relay.engine.candidateOf("erin"));
        assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(1, relay.strikes.totalStrikes(MALLORY.getAddress()));
        assertEquals(0, relay.peerCount("erin", PeerCounter.ENDPOINT_RELEARN));
    }

    @Test
    void aPeerWaitingForAPartnerWhoIsOfflineTooIsNeverStruck() {
        for (int round = 0; round < 12; round++) { // six minutes of a lone peer's handshake retries
            relay.receive(relay.init(0x300 + round, HANK_KEY), GINA_NAT);
            relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
            relay.engine.sweep();
        }
        assertEquals(List.of(), relay.sent(), "hank has neither endpoint nor candidate");
        assertEquals(12, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(0, relay.strikes.totalStrikes(GINA_NAT.getAddress()), "nobody saw it: not a forgery");
        assertTrue(relay.blocklist.entries(relay.clock.get()).isEmpty());

        relay.receive(relay.init(0x400, GINA_KEY), HANK_NAT); // hank comes up
        relay.receive(relay.init(0x401, HANK_KEY), GINA_NAT); // gina is not blocked: her retry reaches him
        assertEquals(List.of(HANK_NAT), relay.sent());
    }

    @Test
    void aCandidateWhoseInitiationReachedThePartnerIsStruckWhenItExpires() {
        relay.receive(relay.init(0x500, FRANK_KEY), MALLORY); // forwarded to frank, who cannot decrypt it
        assertEquals(List.of(FRANK), relay.sent());
        relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
        relay.engine.sweep();
        assertEquals(1, relay.strikes.totalStrikes(MALLORY.getAddress()));
    }

    @Test
    void aResponseWhoseMac1IsNotForThePartnerIsNoAnswer() {
        relay.receive(relay.init(0x71, FRANK_KEY), ERIN_NAT);
        relay.receive(relay.init(0xF9, ERIN_KEY), FRANK);
        relay.sent();
        relay.receive(relay.response(0xE9, 0xF9, RoamingHarness.key(77)), ERIN_NAT);
        assertEquals(List.of(), relay.sent());
        assertTrue(!relay.engine.candidateOf("erin").isAnswered());
    }

    @Test
    void forgettingAnEndpointMakesThePeerLearnItAgain() throws Exception {
        thePeerInitiatesThePartnerAnswersAndThePartnersDataCommitsTheLearnedEndpoint();
        assertTrue(relay.roster.updateEndpoint("erin", null).ok());
        relay.receive(relay.transport(0xF1), ERIN_NAT);
        assertEquals(List.of(), relay.sent(), "an unknown source again");
        relay.receive(relay.init(0x12, FRANK_KEY), ERIN_NAT);
        relay.receive(relay.response(0xF3, 0x12, ERIN_KEY), FRANK);
        relay.receive(relay.transport(0x12), FRANK);
        assertEquals(List.of(FRANK, ERIN_NAT, ERIN_NAT), relay.sent());
        assertEquals(RoamingHarness.ep(ERIN_NAT), relay.endpointOf("erin"));
        assertEquals(2, relay.peerCount("erin", PeerCounter.ENDPOINT_RELEARN), "no relearn hold-off without endpoint");
    }
}
