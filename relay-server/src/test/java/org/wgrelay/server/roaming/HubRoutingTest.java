package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;

/**
 * SPEC B on the userspace pipeline: alice is a hub linked to bob, carol and dave. Her
 * initiations find their spoke by MAC1; her responses, cookie replies and transport data by
 * the session index her spokes' handshakes taught; whatever names no partner is
 * {@code drop_no_route}.
 */
class HubRoutingTest {
    static final InetSocketAddress CAROL = RoamingHarness.address("192.0.2.30", 50001);
    static final InetSocketAddress DAVE = RoamingHarness.address("192.0.2.40", 50002);
    static final String CAROL_KEY = RoamingHarness.key(3);
    static final String DAVE_KEY = RoamingHarness.key(4);
    static final InetSocketAddress ALICE = RoamingHarness.ALICE;
    static final InetSocketAddress BOB = RoamingHarness.BOB;

    RoamingHarness relay;

    @BeforeEach
    void hubWithThreeSpokes() throws Exception {
        relay = new RoamingHarness(Runnable::run, 4);
        assertTrue(relay.roster
                .addPeer("carol", RoamingHarness.ep(CAROL), CAROL_KEY, null)
                .ok());
        assertTrue(relay.roster
                .addPeer("dave", RoamingHarness.ep(DAVE), DAVE_KEY, null)
                .ok());
        assertTrue(relay.roster.addLink("alice", "carol").ok());
        assertTrue(relay.roster.addLink("alice", "dave").ok());
        assertTrue(relay.tables.current().routeOf("alice").isHub());
    }

    @AfterEach
    void close() throws Exception {
        relay.close();
    }

    /** A spoke's initiation to the hub, then the hub's response to it: the session both use. */
    private void handshake(InetSocketAddress spoke, String spokeKey, int spokeIndex, int hubIndex) {
        relay.receive(relay.init(spokeIndex, RoamingHarness.ALICE_KEY), spoke);
        relay.receive(relay.response(hubIndex, spokeIndex, spokeKey), ALICE);
        assertEquals(List.of(ALICE, spoke), relay.sent());
    }

    @Test
    void theHubsResponseAndDataFindTheSpokeWhoseHandshakeTaughtTheIndex() {
        handshake(CAROL, CAROL_KEY, 0xC0C0, 0xA1);
        handshake(DAVE, DAVE_KEY, 0xD0D0, 0xA2);

        relay.receive(relay.transport(0xD0D0), ALICE);
        relay.receive(relay.transport(0xC0C0), ALICE);
        relay.receive(relay.cookie(0xC0C0), ALICE);
        relay.receive(relay.transport(0xA1), CAROL); // a spoke's data goes to its one partner, the hub

        assertEquals(List.of(DAVE, CAROL, CAROL, ALICE), relay.sent());
        assertEquals(0, relay.count(RelayCounter.DROP_NO_ROUTE));
    }

    @Test
    void anIndexNoPartnerTaughtIsNoRouteCountedForTheHub() {
        handshake(CAROL, CAROL_KEY, 0xC0C0, 0xA1);

        relay.receive(relay.transport(0x1234), ALICE);
        relay.receive(relay.response(0xA3, 0x4321, RoamingHarness.BOB_KEY), ALICE);

        assertEquals(List.of(), relay.sent());
        assertEquals(2, relay.count(RelayCounter.DROP_NO_ROUTE));
        assertEquals(2, relay.peerCount("alice", PeerCounter.DROP_NO_ROUTE));
        assertEquals(0, relay.peerCount("carol", PeerCounter.DROP_NO_ROUTE));
    }

    @Test
    void theHubsInitiationGoesToThePartnerWhoseKeyVerifiesItsMac1() {
        relay.receive(relay.init(0xA5, DAVE_KEY), ALICE);
        relay.receive(relay.init(0xA6, RoamingHarness.BOB_KEY), ALICE);
        relay.receive(relay.init(0xA7, RoamingHarness.key(99)), ALICE);

        assertEquals(List.of(DAVE, BOB), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_HANDSHAKE_PUBKEY_MISMATCH));
        assertEquals(1, relay.peerCount("alice", PeerCounter.DROP_PUBKEY_MISMATCH));
    }

    @Test
    void theHubsResponseMustCarryAMac1ForTheSpokeItsIndexNames() {
        relay.receive(relay.init(0xC0C0, RoamingHarness.ALICE_KEY), CAROL);
        relay.sent();

        relay.receive(relay.response(0xA1, 0xC0C0, DAVE_KEY), ALICE); // made for dave, names carol's index

        assertEquals(List.of(), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_HANDSHAKE_PUBKEY_MISMATCH));
    }

    @Test
    void aSpokesRespondingHandshakeTeachesTheIndexToo() {
        relay.receive(relay.init(0xA8, CAROL_KEY), ALICE); // the hub initiates
        relay.receive(relay.response(0xC8, 0xA8, RoamingHarness.ALICE_KEY), CAROL);
        relay.receive(relay.transport(0xC8), ALICE);

        assertEquals(List.of(CAROL, ALICE, CAROL), relay.sent());
    }

    @Test
    void anEntryLivesThreeHundredSecondsAfterItsHandshake() {
        handshake(CAROL, CAROL_KEY, 0xC0C0, 0xA1);

        relay.advance(299_999);
        relay.receive(relay.transport(0xC0C0), ALICE);
        relay.advance(1);
        relay.receive(relay.transport(0xC0C0), ALICE);

        assertEquals(List.of(CAROL), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_NO_ROUTE));
    }

    @Test
    void eachSpokeHoldsAtMostEightIndicesTheOldestReplaced() {
        for (int i = 1; i <= 9; i++) {
            relay.receive(relay.init(0x100 + i, RoamingHarness.ALICE_KEY), CAROL);
        }
        relay.sent();

        for (int i = 1; i <= 9; i++) {
            relay.receive(relay.transport(0x100 + i), ALICE);
        }

        assertEquals(8, relay.sent().size());
        assertEquals(1, relay.count(RelayCounter.DROP_NO_ROUTE), "the first index was replaced");
    }

    @Test
    void anOwnerThatIsNoLongerThePartnerIsNoRoute() {
        handshake(CAROL, CAROL_KEY, 0xC0C0, 0xA1);
        assertTrue(relay.roster.removeLink("alice", "carol").ok());

        relay.receive(relay.transport(0xC0C0), ALICE);

        assertEquals(List.of(), relay.sent());
        assertEquals(1, relay.count(RelayCounter.DROP_NO_ROUTE));
    }

    @Test
    void theSameIndexFromTwoPeersOfDifferentHubsReachesEachHubsOwn() throws Exception {
        // erin is a second hub with spokes dave and frank; dave and carol both pick 0x77.
        InetSocketAddress erin = RoamingHarness.address("192.0.2.50", 50003);
        InetSocketAddress frank = RoamingHarness.address("192.0.2.60", 50004);
        assertTrue(relay.roster
                .addPeer("erin", RoamingHarness.ep(erin), RoamingHarness.key(5), null)
                .ok());
        assertTrue(relay.roster
                .addPeer("frank", RoamingHarness.ep(frank), RoamingHarness.key(6), null)
                .ok());
        assertTrue(relay.roster.addLink("erin", "frank").ok());
        assertTrue(relay.roster.addLink("erin", "dave").ok());
        handshake(CAROL, CAROL_KEY, 0x77, 0xA1);
        relay.receive(relay.init(0x77, RoamingHarness.key(5)), frank);
        relay.sent();

        relay.receive(relay.transport(0x77), ALICE);
        relay.receive(relay.transport(0x77), erin);

        assertEquals(List.of(CAROL, frank), relay.sent());
    }
}
