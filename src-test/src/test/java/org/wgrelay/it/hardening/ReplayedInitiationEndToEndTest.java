package org.wgrelay.it.hardening;

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
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.noise.WgLayout;

/**
 * The roaming threat end to end: mallory, who sees alice's traffic, replays a real initiation of
 * alice's from its own address. The initiation's MAC1 is genuine, so the relay must try mallory as
 * alice's candidate (SPEC rule 3) — and must never commit it (rule 9), because mallory can
 * never show the partner's transport data on that session.
 *
 * <p>The hard case is a replay that bob answers. wireguard-go rejects an initiation whose
 * timestamp is not newer than the last one it accepted from that peer, but a WireGuard that never
 * saw the initiation (down when it was sent, or restarted since) answers it. So the initiation is
 * captured while bob is down — a socket stands on bob's port and keeps the bytes the relay
 * forwards — alice is then kept quiet so that bob meets no newer initiation, and bob comes up.
 *
 * <ol>
 *   <li>Replay 1: bob answers; mallory follows with type-4-shaped datagrams for that session.
 *       Alice's tunnel comes up while this candidate is live, on her own handshake.
 *   <li>The candidate expires after 30 s: {@code drop_relearn_unconfirmed} = 1, one strike.
 *   <li>Replay 2: bob has accepted newer initiations from alice and stays silent. It expires too:
 *       the second failed candidate within 60 s puts mallory on the blocklist for 60 s.
 *   <li>Replay 3 is dropped as blocklisted.
 * </ol>
 *
 * Throughout, alice's endpoint never moves and her pings keep crossing the tunnel. About 70 s,
 * bound by the SPEC's 30 s candidate lifetime.
 */
class ReplayedInitiationEndToEndTest {

    private static final int MALLORY_PORT = 40000;
    private static final String MALLORY_ENDPOINT = RelayedPair.MALLORY_UNDERLAY + ":" + MALLORY_PORT;
    private static final String ALICE_ENDPOINT = RelayedPair.ALICE_UNDERLAY + ":" + RelayedPair.PEER_PORT;
    /** The 30 s candidate lifetime, a timer that runs once a second, and a loaded machine. */
    private static final Duration CANDIDATE_EXPIRY = Duration.ofSeconds(50);

    private static final Duration CHILD_JVM = Duration.ofSeconds(60);
    /** Consecutive lost pings (each waits 2 s) that still count as an undisturbed tunnel on a busy host. */
    private static final int MAX_OUTAGE = 2;

    /**
     * The relay and alice, with bob down until the test starts him; afresh for each test, and
     * closed by JUnit after it, failed or not.
     */
    @AutoClose
    private final RelayedPair pair = RelayedPair.start(false);

    @Test
    void aReplayedInitiationNeverMovesAliceNorDisturbsHerTunnelAndTheReplayerEndsUpBlocklisted() throws IOException {
        Path init = captureAnInitiationOfAlicesWhileBobIsDown();
        pair.startBob();

        // Replay 1: bob has never seen this initiation, so he answers it. Nothing else moves now
        // (alice forgot bob, bob has no session), so the relay's counters tell the whole story.
        long forwardedBefore = pair.control.counter("fwd_packets");
        long unknownBeforeReplay = pair.control.counter("drop_unknown_src");
        String replay1 = replay("replay-1", init, 5_000, 3);
        System.out.print("replay 1:\n" + replay1);
        assertTrue(
                replay1.contains("answered sender="),
                "bob must answer a replay of an initiation he never saw; mallory's output:\n" + replay1
                        + pair.diagnostics());
        assertTrue(
                pair.relay.output().contains("candidate peer=alice source=" + MALLORY_ENDPOINT),
                "the relay must try mallory as alice's candidate\n" + pair.diagnostics());
        JsonNode alice = aliceHasNotMoved();
        assertEquals(MALLORY_ENDPOINT, alice.path("candidate_endpoint").asText(), pair.diagnostics());
        // Forwarded: the replay to bob, bob's answer (to alice; the copy to mallory is not counted)
        // and, the candidate being answered, each of mallory's three type 4 a second apart (rule 3).
        assertEquals(5, pair.control.counter("fwd_packets") - forwardedBefore, pair.diagnostics());
        assertEquals(unknownBeforeReplay, pair.control.counter("drop_unknown_src"), pair.diagnostics());

        // Alice's own handshake brings her tunnel up while mallory's answered candidate is live.
        pair.aliceAddsBob();
        pair.poll(Duration.ofSeconds(30), "alice's tunnel to come up beside mallory's candidate", () -> {
            aliceHasNotMoved();
            return pair.ping();
        });

        pair.poll(CANDIDATE_EXPIRY, "mallory's first candidate to expire", () -> {
            pair.probe();
            aliceHasNotMoved();
            return pair.control.counter("drop_relearn_unconfirmed") >= 1;
        });
        assertEquals(1, pair.control.counter("drop_relearn_unconfirmed"), pair.diagnostics());
        assertNull(
                pair.control.blocklistEntry(RelayedPair.MALLORY_UNDERLAY),
                "one failed candidate is one strike, not a block\n" + pair.diagnostics());

        // Replay 2: bob has since accepted newer initiations from alice; he stays silent.
        long unknownBefore = pair.control.counter("drop_unknown_src");
        ChildProcess second = pair.malloryNs.spawn("replay-2", command(init, 3_000, 2), Map.of());
        pair.poll(CHILD_JVM, "mallory's second replay", () -> {
            pair.probe();
            aliceHasNotMoved();
            return !second.isAlive();
        });
        String replay2 = finished(second);
        System.out.print("replay 2:\n" + replay2);
        assertTrue(replay2.contains("done answered=false"), "bob answered a stale replay:\n" + replay2);
        assertEquals(
                2,
                pair.relay.output().split("candidate peer=alice source=" + MALLORY_ENDPOINT, -1).length - 1,
                "the second replay must make a second candidate\n" + pair.diagnostics());
        assertTrue(
                pair.control.counter("drop_unknown_src") >= unknownBefore + 2,
                "an unanswered candidate's type 4 must be dropped\n" + pair.diagnostics());

        pair.poll(CANDIDATE_EXPIRY, "mallory on the blocklist after its second failed candidate", () -> {
            pair.probe();
            aliceHasNotMoved();
            return pair.control.blocklistEntry(RelayedPair.MALLORY_UNDERLAY) != null;
        });
        JsonNode entry = pair.control.blocklistEntry(RelayedPair.MALLORY_UNDERLAY);
        assertNotNull(entry, pair.diagnostics());
        assertEquals(2, entry.path("total_strikes").asLong(), "blocklist entry " + entry);
        long secondsLeft = entry.path("seconds_left").asLong();
        assertTrue(secondsLeft > 30 && secondsLeft <= 60, "blocklist entry " + entry);
        assertEquals(2, pair.control.counter("drop_relearn_unconfirmed"), pair.diagnostics());
        assertTrue(
                pair.relay.output().contains("blocklist ip=" + RelayedPair.MALLORY_UNDERLAY + " strikes=2 seconds=60"),
                "the relay must log the block\n" + pair.diagnostics());

        // Replay 3: blocklisted before anything else looks at it.
        long blockedBefore = pair.control.counter("drop_blocklisted");
        String replay3 = replay("replay-3", init, 1_000, 1);
        assertTrue(replay3.contains("done answered=false"), replay3);
        assertTrue(
                pair.control.counter("drop_blocklisted") >= blockedBefore + 2,
                "mallory's initiation and transport must be dropped as blocklisted\n" + pair.diagnostics());
        assertTrue(aliceHasNotMoved().path("candidate_endpoint").isNull(), pair.diagnostics());

        for (int i = 0; i < 3; i++) {
            pair.probe();
        }
        System.out.println("alice's tunnel during the replays: " + pair.probeSummary());
        assertTrue(
                pair.longestOutage() <= MAX_OUTAGE,
                "alice's tunnel was disturbed: " + pair.probeSummary() + "\n" + pair.diagnostics());
        assertTrue(pair.ping(), "alice's tunnel after the replays\n" + pair.diagnostics());
        assertTrue(
                pair.rosterText().lines().anyMatch(line -> line.strip().startsWith("peer alice " + ALICE_ENDPOINT)),
                "the roster file must still carry alice's own endpoint:\n" + pair.rosterText());
        assertFalse(pair.relay.output().contains("relearn peer=alice"), pair.diagnostics());
    }

    /**
     * Bob is down; a socket on his address and port keeps the first initiation the relay forwards
     * there. Alice's first ping makes her initiate; then she forgets bob, so that no later
     * initiation of hers (a newer timestamp) can reach bob before mallory's replay.
     */
    private Path captureAnInitiationOfAlicesWhileBobIsDown() throws IOException {
        Path init = pair.topology.workDir().resolve("alice-init.bin");
        try (ChildProcess capture = pair.bobNs.spawn(
                "init-capture",
                InitCapture.command(RelayedPair.BOB_UNDERLAY, RelayedPair.PEER_PORT, init, 40_000),
                Map.of())) {
            capture.awaitLine(line -> line.startsWith("listening"), CHILD_JVM);
            pair.poll(Duration.ofSeconds(45), "an initiation of alice's at bob's port", () -> {
                pair.ping(); // unanswered: bob is down
                return !capture.isAlive();
            });
            OptionalInt exit = capture.awaitExit(Duration.ofSeconds(10));
            assertEquals(OptionalInt.of(0), exit, "init-capture output:\n" + capture.output() + pair.diagnostics());
        }
        pair.aliceRemovesBob();
        byte[] message = Files.readAllBytes(init);
        assertEquals(WgLayout.INITIATION_LENGTH, message.length);
        assertEquals(WgLayout.TYPE_INITIATION, WgLayout.type(message));
        return init;
    }

    private List<String> command(Path init, long answerWaitMillis, int transports) {
        return ReplayAttacker.command(
                RelayedPair.MALLORY_UNDERLAY,
                MALLORY_PORT,
                RelayedPair.RELAY_ON_MALLORY_SIDE,
                RelayedPair.RELAY_PORT,
                init,
                answerWaitMillis,
                transports);
    }

    /** Runs one replay in mallory's namespace to its end and returns its output. */
    private String replay(String label, Path init, long answerWaitMillis, int transports) {
        ChildProcess child = pair.malloryNs.spawn(label, command(init, answerWaitMillis, transports), Map.of());
        child.awaitExit(CHILD_JVM);
        return finished(child);
    }

    private String finished(ChildProcess child) {
        OptionalInt exit = child.awaitExit(Duration.ofSeconds(10));
        String output = child.output();
        child.close();
        assertEquals(OptionalInt.of(0), exit, child.label() + " output:\n" + output + pair.diagnostics());
        return output;
    }

    /** The invariant of the whole test: the relay still sends alice's traffic to her own endpoint. */
    private JsonNode aliceHasNotMoved() {
        JsonNode alice = pair.control.peer("alice");
        assertEquals(ALICE_ENDPOINT, alice.path("endpoint").asText(), "alice's endpoint moved\n" + pair.diagnostics());
        assertEquals(0, alice.path("endpoint_relearn").asLong(), "alice relearned\n" + pair.diagnostics());
        return alice;
    }
}
