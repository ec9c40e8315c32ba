package org.wgrelay.it.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.hardening.InitCapture;
import org.wgrelay.it.hardening.ReplayAttacker;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.it.noise.WgLayout;

/**
 * The threat of enrollment end to end (SPEC E with rules 3, 8, 9): a peer registered by key
 * only has no endpoint, so the relay gives her traffic to whoever is her candidate — and a forger
 * who knows the public keys can become that candidate. The relay must never commit it.
 *
 * <p>In the first test bob is registered with his endpoint and key; alice with her key only, and
 * she never talks to the relay: her endpoint stays null unless the relay commits a forger, which
 * makes every "still null" a claim that could fail. Mallory, on an address of its own, tries both
 * directions:
 *
 * <ol>
 *   <li>The replay: a genuine initiation of alice's (captured off the relay, so no WireGuard has
 *       seen it) from mallory's address. Bob answers it, the answer reaches mallory through
 *       alice's candidate, and mallory follows with type-4-shaped datagrams — but bob never sends
 *       transport data on that session, so nothing commits. After 30 s the candidate expires:
 *       {@code drop_relearn_unconfirmed} 1, mallory's first strike.
 *   <li>The forged answer: mallory makes itself alice's candidate with an initiation that is noise
 *       behind a MAC1 for bob's key, receives bob's own initiation through that candidate, and
 *       answers it in alice's place (receiver index = bob's sender index, MAC1 for bob's key). The
 *       relay passes it to bob, whose WireGuard rejects it and so never sends the transport data
 *       that would commit. Its expiry is mallory's second strike within 60 s: blocklisted.
 * </ol>
 *
 * About 75 s, bound by the SPEC's 30 s candidate lifetime, twice. The other tests give the forger
 * two addresses, so that it can play both ends of the pair ({@link PairForger}).
 */
class EnrollmentForgeryEndToEndTest {

    private static final int REPLAY_PORT = 40000;
    private static final int FORGER_PORT = 40001;
    private static final String REPLAY_SOURCE = EnrollmentNet.MALLORY + ":" + REPLAY_PORT;
    private static final String FORGER_SOURCE = EnrollmentNet.MALLORY + ":" + FORGER_PORT;
    /** Where alice's wireguard-go sends her initiation instead of the relay: a socket of the test's. */
    private static final String CAPTURE_IP = "127.0.0.1";

    private static final int CAPTURE_PORT = 51999;
    /** The 30 s candidate lifetime, a timer that runs once a second, and a loaded machine. */
    private static final Duration CANDIDATE_EXPIRY = Duration.ofSeconds(50);

    private static final Duration CHILD_JVM = Duration.ofSeconds(60);

    /** Started by each test, closed by JUnit after it, failed or not. */
    @AutoClose
    private EnrollmentNet net;

    @Test
    void neitherAReplayedInitiationNorAForgedAnswerEnrollsAPeerAndTheForgerEndsUpBlocklisted() throws IOException {
        net = EnrollmentNet.start(true);
        net.register("bob", EnrollmentNet.BOB_SEEN);
        net.register("alice", "-");
        net.link();
        net.startBob(0);
        Path init = captureAnInitiationOfAlicesOffTheRelay();

        // Attack 1: the replay. Bob never saw this initiation, so he answers it.
        String replay = runToEnd(
                "replay",
                JavaCommand.of(
                        List.of("-Xmx64m", "-XX:TieredStopAtLevel=1"),
                        ReplayAttacker.class.getName(),
                        EnrollmentNet.MALLORY,
                        Integer.toString(REPLAY_PORT),
                        EnrollmentNet.RELAY_ON_MALLORY_SIDE,
                        Integer.toString(EnrollmentNet.RELAY_PORT),
                        init.toString(),
                        "5000",
                        "3"));
        System.out.print("replay:\n" + replay);
        assertEquals(
                1,
                net.relayLogCount("candidate peer=alice source=" + REPLAY_SOURCE),
                "the replay must make mallory alice's candidate\n" + net.diagnostics());
        assertTrue(
                replay.contains("answered sender="),
                "bob's answer must reach mallory, alice's candidate standing in for her missing endpoint;"
                        + " mallory's output:\n" + replay + net.diagnostics());
        assertEquals(
                REPLAY_SOURCE, aliceStillUnknown().path("candidate_endpoint").asText(), net.diagnostics());

        net.poll(CANDIDATE_EXPIRY, "the replay's candidate to expire", () -> {
            aliceStillUnknown();
            return net.control.counter("drop_relearn_unconfirmed") >= 1;
        });
        assertEquals(1, net.control.counter("drop_relearn_unconfirmed"), net.diagnostics());
        assertTrue(aliceStillUnknown().path("candidate_endpoint").isNull(), net.diagnostics());
        assertNull(
                net.control.blocklistEntry(EnrollmentNet.MALLORY),
                "one failed candidate is one strike, not a block\n" + net.diagnostics());

        // Attack 2: the forged answer to bob's own initiation.
        long bobReceivedBefore = EnrollmentNet.udpInDatagrams(net.bobNs);
        try (ChildProcess forger = net.malloryNs.spawn(
                "forger",
                ForgedAnswerAttacker.command(
                        EnrollmentNet.MALLORY,
                        FORGER_PORT,
                        EnrollmentNet.RELAY_ON_MALLORY_SIDE,
                        EnrollmentNet.RELAY_PORT,
                        net.bobPublicKey,
                        30_000),
                Map.of())) {
            forger.awaitLine(line -> line.startsWith("sent initiation"), CHILD_JVM);
            net.poll(
                    Duration.ofSeconds(10),
                    "mallory's forged initiation to make it alice's candidate",
                    () -> FORGER_SOURCE.equals(
                            aliceStillUnknown().path("candidate_endpoint").asText()));
            // Bob wants to reach alice: his initiation has nowhere to go but alice's candidate.
            assertFalse(EnrollmentNet.ping(net.bobNs, EnrollmentNet.ALICE_TUNNEL), net.diagnostics());
            forger.awaitLine(line -> line.startsWith("sent response"), Duration.ofSeconds(30));
            net.poll(
                    Duration.ofSeconds(10),
                    "the forged initiation and the forged answer to reach bob's WireGuard",
                    () -> EnrollmentNet.udpInDatagrams(net.bobNs) >= bobReceivedBefore + 2);
            OptionalInt exit = forger.awaitExit(Duration.ofSeconds(20));
            String output = forger.output();
            System.out.print("forger:\n" + output);
            assertEquals(OptionalInt.of(0), exit, "forger output:\n" + output + net.diagnostics());
            assertTrue(output.contains("done answered=true"), output);
            assertFalse(
                    output.contains("received type=4"),
                    "bob must not send transport data to a session he never completed:\n" + output);
        }
        aliceStillUnknown();

        net.poll(CANDIDATE_EXPIRY, "mallory on the blocklist after its second failed candidate", () -> {
            aliceStillUnknown();
            return net.control.blocklistEntry(EnrollmentNet.MALLORY) != null;
        });
        JsonNode entry = net.control.blocklistEntry(EnrollmentNet.MALLORY);
        assertNotNull(entry, net.diagnostics());
        assertEquals(2, entry.path("total_strikes").asLong(), "blocklist entry " + entry);
        long secondsLeft = entry.path("seconds_left").asLong();
        assertTrue(secondsLeft > 30 && secondsLeft <= 60, "blocklist entry " + entry);
        assertEquals(2, net.control.counter("drop_relearn_unconfirmed"), net.diagnostics());
        assertTrue(
                net.relay.output().contains("blocklist ip=" + EnrollmentNet.MALLORY + " strikes=2 seconds=60"),
                "the relay must log the block\n" + net.diagnostics());

        JsonNode alice = aliceStillUnknown();
        assertTrue(alice.path("candidate_endpoint").isNull(), net.diagnostics());
        assertEquals(0, net.relayLogCount("relearn peer="), net.diagnostics());
        assertTrue(
                net.rosterHasLineStartingWith("peer alice - " + net.alicePublicKey),
                "the roster file must still name alice without an endpoint:\n" + net.rosterText());
        assertEquals(EnrollmentNet.BOB_SEEN, net.row("bob").path("endpoint").asText(), net.diagnostics());
    }

    /**
     * The same forger as below, with both sockets ({@link PairForger}), against a pair whose
     * partner is anchored: bob registered with his endpoint and his WireGuard up, alice by key
     * only. The forger's "bob" is only a roaming candidate of bob's, so its "alice"'s answer goes
     * to bob's registered endpoint — bob's WireGuard, which rejects it — and nothing commits.
     */
    @Test
    void aForgerPlayingBothEndsCannotEnrollAPeerWhosePartnerHasAnEndpoint() {
        net = EnrollmentNet.start(true);
        net.register("bob", EnrollmentNet.BOB_SEEN);
        net.register("alice", "-");
        net.link();
        net.startBob(0);

        String output = runToEnd(
                "pair-forger",
                PairForger.command(
                        EnrollmentNet.MALLORY,
                        FORGER_PORT,
                        FORGER_PORT + 1,
                        EnrollmentNet.RELAY_ON_MALLORY_SIDE,
                        EnrollmentNet.RELAY_PORT,
                        net.alicePublicKey,
                        net.bobPublicKey));
        System.out.print("pair forger against an anchored partner:\n" + output);
        String why = "forger output:\n" + output + net.diagnostics();
        assertTrue(output.contains("as-alice received initiation"), why);
        assertTrue(output.contains("as-bob received response=false"), why);
        anchoredPairUnmoved();

        net.poll(CANDIDATE_EXPIRY, "both forged candidates to expire, never committed", () -> {
            anchoredPairUnmoved();
            return net.control.counter("drop_relearn_unconfirmed") >= 2;
        });
        net.poll(Duration.ofSeconds(10), "the forger on the blocklist", () -> {
            anchoredPairUnmoved();
            return net.control.blocklistEntry(EnrollmentNet.MALLORY) != null;
        });
        assertEquals(0, net.relayLogCount("relearn peer="), net.diagnostics());

        net.startAlice(0);
        net.poll(Duration.ofSeconds(45), "alice's first ping to cross the relay", net::aliceReachesBob);
        net.poll(
                Duration.ofSeconds(15),
                "alice's real endpoint learned",
                () -> EnrollmentNet.ALICE_SEEN.equals(
                        net.row("alice").path("endpoint").asText()));
    }

    /** The invariant of the anchored pair forgery: alice has no endpoint, bob keeps his, neither relearned. */
    private void anchoredPairUnmoved() {
        aliceStillUnknown();
        JsonNode bob = net.row("bob");
        assertEquals(EnrollmentNet.BOB_SEEN, bob.path("endpoint").asText(), "bob moved\n" + net.diagnostics());
        assertEquals(0, bob.path("endpoint_relearn").asLong(), "bob was relearned\n" + net.diagnostics());
    }

    /**
     * Alice's wireguard-go sends her first initiation to a socket of the test's in her own
     * namespace instead of the relay; the bytes are what she would have sent bob through it, MAC1
     * for bob's key included. She then forgets bob, so she never talks to the relay.
     */
    private Path captureAnInitiationOfAlicesOffTheRelay() throws IOException {
        Path init = net.topology.workDir().resolve("alice-init.bin");
        try (ChildProcess capture = net.aliceNs.spawn(
                "init-capture",
                JavaCommand.of(
                        List.of("-Xmx64m", "-XX:TieredStopAtLevel=1"),
                        InitCapture.class.getName(),
                        CAPTURE_IP,
                        Integer.toString(CAPTURE_PORT),
                        init.toString(),
                        "40000"),
                Map.of())) {
            capture.awaitLine(line -> line.startsWith("listening"), CHILD_JVM);
            net.startAlice(CAPTURE_IP + ":" + CAPTURE_PORT, 0);
            net.poll(Duration.ofSeconds(45), "an initiation of alice's at the capture socket", () -> {
                net.aliceReachesBob(); // unanswered: nobody is there
                return !capture.isAlive();
            });
            OptionalInt exit = capture.awaitExit(Duration.ofSeconds(10));
            assertEquals(OptionalInt.of(0), exit, "init-capture output:\n" + capture.output() + net.diagnostics());
        }
        net.aliceRemovesBob();
        byte[] message = Files.readAllBytes(init);
        assertEquals(WgLayout.INITIATION_LENGTH, message.length);
        assertEquals(WgLayout.TYPE_INITIATION, WgLayout.type(message));
        assertEquals(
                0, net.control.counter("rx_packets"), "alice must not have reached the relay\n" + net.diagnostics());
        return init;
    }

    /** Runs {@code argv} in mallory's namespace to its end (exit 0 required) and returns its output. */
    private String runToEnd(String label, List<String> argv) {
        try (ChildProcess child = net.malloryNs.spawn(label, argv, Map.of())) {
            OptionalInt exit = child.awaitExit(CHILD_JVM);
            String output = child.output();
            assertEquals(OptionalInt.of(0), exit, label + " output:\n" + output + net.diagnostics());
            return output;
        }
    }

    /** The invariant of the whole test: alice has no endpoint and was never relearned. */
    private JsonNode aliceStillUnknown() {
        JsonNode alice = net.row("alice");
        assertTrue(alice.path("endpoint").isNull(), "alice's endpoint was set\n" + net.diagnostics());
        assertEquals(0, alice.path("endpoint_relearn").asLong(), "alice was relearned\n" + net.diagnostics());
        return alice;
    }
}
