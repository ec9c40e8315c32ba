package org.wgrelay.it.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Command;

/**
 * Enrollment by key end to end (SPEC E): the operator registers peers by name and public key
 * only, links them, and the relay learns each NATed peer's public endpoint from the proofs it uses
 * for roaming — a candidate from the first initiation, committed by the partner's transport data
 * (rules 3, 8, 9). Real wireguard-go on both sides, each behind a NAT that maps it to a port the
 * operator never wrote down ({@link EnrollmentNet}).
 */
class EnrollmentByKeyEndToEndTest {

    private static final Duration FIRST_TUNNEL = Duration.ofSeconds(45);
    private static final Duration COMMIT_VISIBLE = Duration.ofSeconds(15);
    /** PersistentKeepalive of the tests where both peers must initiate by themselves. */
    private static final int KEEPALIVE = 25;

    /** The relay on an empty roster; started by each test, closed by JUnit after it, failed or not. */
    @AutoClose
    private EnrollmentNet net;

    @Test
    void aPeerRegisteredByKeyOnlyIsLearnedFromHerFirstHandshakeAndTheTunnelWorksBothWays() {
        net = EnrollmentNet.start(true);
        net.register("bob", EnrollmentNet.BOB_SEEN);
        net.register("alice", "-");
        net.link();

        JsonNode before = net.row("alice");
        String why = "alice's row before she runs: " + before + "\n" + net.diagnostics();
        assertTrue(before.path("endpoint").isNull(), why);
        assertEquals(net.alicePublicKey, before.path("pubkey").asText(), why);
        assertEquals("bob", before.path("linked_to").asText(), why);
        assertTrue(
                net.rosterHasLineStartingWith("peer alice - " + net.alicePublicKey),
                "the roster must name alice without an endpoint:\n" + net.rosterText());
        // A peer without an endpoint still gets her wg-quick block (SPEC E).
        String config = net.control
                .call("wg show config", "alice", EnrollmentNet.RELAY_ON_ALICE_SIDE + ":" + EnrollmentNet.RELAY_PORT)
                .path("config")
                .asText();
        assertTrue(config.contains(net.bobPublicKey), "wg show config alice: " + config);

        // Bob first, quiet: only alice's first ping starts a handshake, so none cross.
        net.startBob(0);
        net.startAlice(0);
        net.poll(FIRST_TUNNEL, "alice's first ping to cross the relay", net::aliceReachesBob);
        net.poll(
                COMMIT_VISIBLE,
                "wg peer list to show alice's learned endpoint",
                () -> EnrollmentNet.ALICE_SEEN.equals(
                        net.row("alice").path("endpoint").asText()));

        Command.Result back = EnrollmentNet.pings(net.bobNs, EnrollmentNet.ALICE_TUNNEL, 3);
        assertTrue(
                back.succeeded() && back.stdout().contains(" 3 received"),
                "bob's pings to alice must cross the relay: " + back.describe() + "\n" + net.diagnostics());
        Command.Result forth = EnrollmentNet.pings(net.aliceNs, EnrollmentNet.BOB_TUNNEL, 3);
        assertTrue(
                forth.succeeded() && forth.stdout().contains(" 3 received"),
                "alice's pings to bob: " + forth.describe() + "\n" + net.diagnostics());

        JsonNode alice = net.row("alice");
        JsonNode bob = net.row("bob");
        why = "alice: " + alice + "\nbob: " + bob + "\n" + net.diagnostics();
        assertEquals(EnrollmentNet.ALICE_SEEN, alice.path("endpoint").asText(), why);
        assertEquals(1, alice.path("endpoint_relearn").asLong(), why);
        assertTrue(alice.path("candidate_endpoint").isNull(), why);
        assertEquals(EnrollmentNet.BOB_SEEN, bob.path("endpoint").asText(), why);
        assertEquals(0, bob.path("endpoint_relearn").asLong(), why);
        assertEquals(0, net.control.counter("drop_relearn_unconfirmed"), why);
        assertEquals(0, net.control.call("wg blocklist list").path("entries").size(), why);

        assertEquals(
                1, net.relayLogCount("candidate peer=alice source=" + EnrollmentNet.ALICE_SEEN), net.diagnostics());
        assertEquals(
                1, net.relayLogCount("relearn peer=alice endpoint=" + EnrollmentNet.ALICE_SEEN), net.diagnostics());
        assertEquals(0, net.relayLogCount("relearn peer=bob"), net.diagnostics());
        net.poll(
                COMMIT_VISIBLE,
                "the roster file to carry alice's learned endpoint and her key",
                () -> net.rosterHasLineStartingWith(
                        "peer alice " + EnrollmentNet.ALICE_SEEN + " " + net.alicePublicKey));
    }

    @Test
    void aForgottenEndpointIsLearnedAgainFromThePeersNextHandshake() {
        net = EnrollmentNet.start(true);
        net.register("bob", EnrollmentNet.BOB_SEEN);
        net.register("alice", "-");
        net.link();
        net.startBob(0);
        net.startAlice(0);
        net.poll(FIRST_TUNNEL, "alice's first ping to cross the relay", net::aliceReachesBob);
        net.poll(
                COMMIT_VISIBLE,
                "wg peer list to show alice's learned endpoint",
                () -> EnrollmentNet.ALICE_SEEN.equals(
                        net.row("alice").path("endpoint").asText()));

        net.control.ctl("wg", "peer", "update", "alice", "-");
        assertTrue(net.row("alice").path("endpoint").isNull(), net.diagnostics());
        assertTrue(
                net.rosterHasLineStartingWith("peer alice - " + net.alicePublicKey),
                "the roster must name alice without an endpoint again:\n" + net.rosterText());

        // Bob's data for alice has nowhere to go now; alice's, from a source no longer
        // registered, is an unknown source's. Her WireGuard initiates again when its data goes
        // unanswered (15 s), and that handshake enrolls her again.
        long noEndpointBefore = net.control.counter("drop_no_endpoint");
        assertFalse(net.bobReachesAlice(), net.diagnostics());
        assertTrue(net.control.counter("drop_no_endpoint") > noEndpointBefore, net.diagnostics());
        net.poll(Duration.ofSeconds(60), "alice's tunnel back after her next handshake", net::aliceReachesBob);
        net.poll(
                COMMIT_VISIBLE,
                "wg peer list to show alice's endpoint learned again",
                () -> EnrollmentNet.ALICE_SEEN.equals(
                        net.row("alice").path("endpoint").asText()));
        assertEquals(
                2,
                net.relayLogCount("relearn peer=alice endpoint=" + EnrollmentNet.ALICE_SEEN),
                "one relearn at her enrollment, one after the update\n" + net.diagnostics());
        assertTrue(net.bobReachesAlice(), net.diagnostics());
        assertEquals(0, net.control.counter("drop_relearn_unconfirmed"), net.diagnostics());
    }

    @Test
    void twoPeersRegisteredByKeyOnlyLearnEachOtherInOneHandshake() {
        net = EnrollmentNet.start(false);
        net.enrollBothByKeyOnly(KEEPALIVE);

        Command.Result back = EnrollmentNet.pings(net.bobNs, EnrollmentNet.ALICE_TUNNEL, 3);
        assertTrue(
                back.succeeded() && back.stdout().contains(" 3 received"),
                "bob's pings to alice must cross the relay: " + back.describe() + "\n" + net.diagnostics());

        JsonNode alice = net.row("alice");
        JsonNode bob = net.row("bob");
        String why = "alice: " + alice + "\nbob: " + bob + "\n" + net.diagnostics();
        assertEquals(EnrollmentNet.ALICE_SEEN, alice.path("endpoint").asText(), why);
        assertEquals(EnrollmentNet.BOB_SEEN, bob.path("endpoint").asText(), why);
        assertEquals(1, alice.path("endpoint_relearn").asLong(), why);
        assertEquals(1, bob.path("endpoint_relearn").asLong(), why);
        assertTrue(alice.path("candidate_endpoint").isNull(), why);
        assertTrue(bob.path("candidate_endpoint").isNull(), why);
        assertEquals(0, net.control.counter("drop_relearn_unconfirmed"), why);
        assertEquals(0, net.control.call("wg blocklist list").path("entries").size(), why);
        assertEquals(
                1, net.relayLogCount("relearn peer=alice endpoint=" + EnrollmentNet.ALICE_SEEN), net.diagnostics());
        assertEquals(1, net.relayLogCount("relearn peer=bob endpoint=" + EnrollmentNet.BOB_SEEN), net.diagnostics());
    }

    @Test
    void learnedEndpointsSurviveARelayRestartAndTheTunnelWorksAtOnce() {
        net = EnrollmentNet.start(false);
        net.enrollBothByKeyOnly(KEEPALIVE);
        net.poll(
                COMMIT_VISIBLE,
                "the roster file to carry both learned endpoints",
                () -> net.rosterHasLineStartingWith("peer alice " + EnrollmentNet.ALICE_SEEN + " " + net.alicePublicKey)
                        && net.rosterHasLineStartingWith(
                                "peer bob " + EnrollmentNet.BOB_SEEN + " " + net.bobPublicKey));

        assertEquals(0, net.stopRelay(), "wg-relay must exit 0 on SIGTERM\n" + net.diagnostics());
        String roster = net.rosterText();
        assertTrue(
                roster.lines()
                        .anyMatch(line -> line.strip()
                                .startsWith("peer alice " + EnrollmentNet.ALICE_SEEN + " " + net.alicePublicKey)),
                "the flushed roster must carry alice's learned endpoint:\n" + roster);
        assertTrue(
                roster.lines()
                        .anyMatch(line ->
                                line.strip().startsWith("peer bob " + EnrollmentNet.BOB_SEEN + " " + net.bobPublicKey)),
                "the flushed roster must carry bob's learned endpoint:\n" + roster);

        net.startRelay();
        assertTrue(
                net.relay.startupLine().contains("peers=2 links=1"),
                "the restarted relay loads both peers and the link: " + net.relay.startupLine());
        JsonNode alice = net.row("alice");
        JsonNode bob = net.row("bob");
        String why = "after the restart, alice: " + alice + "\nbob: " + bob + "\n" + net.diagnostics();
        assertEquals(EnrollmentNet.ALICE_SEEN, alice.path("endpoint").asText(), why);
        assertEquals(EnrollmentNet.BOB_SEEN, bob.path("endpoint").asText(), why);

        // At once: the peers' sessions outlived the relay, and the relay knows where they are.
        assertTrue(net.aliceReachesBob(), "alice's first ping after the restart\n" + net.diagnostics());
        assertTrue(net.bobReachesAlice(), "bob's first ping after the restart\n" + net.diagnostics());
        Command.Result forth = EnrollmentNet.pings(net.aliceNs, EnrollmentNet.BOB_TUNNEL, 5);
        assertTrue(
                forth.succeeded() && forth.stdout().contains(" 5 received"),
                "alice's pings after the restart: " + forth.describe() + "\n" + net.diagnostics());

        // Known from the roster, not learned again: no datagram came from an unknown source.
        assertEquals(0, net.relayLogCount("candidate peer="), net.diagnostics());
        assertEquals(0, net.control.counter("drop_unknown_src"), net.diagnostics());
        assertEquals(0, net.control.counter("drop_no_endpoint"), net.diagnostics());
        assertTrue(net.control.counter("fwd_packets") >= 7, net.diagnostics());
    }
}
