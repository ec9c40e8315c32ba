package org.wgrelay.it.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.wgrelay.it.hub.HubAndSpokes.Site;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.noise.WgLayout;

/**
 * The roaming threat against a hub's spoke: mallory, who saw spoke 1's traffic, replays a real
 * initiation of spoke 1's from its own address. Its MAC1 is genuine and names the hub, which has
 * three partners, so the relay registers mallory as an unidentified candidate of the hub's links
 * (SPEC 0.3 B); the hub's answer identifies it as spoke 1's. It must never commit (rule 9):
 * mallory cannot produce the transport data on which the hub would answer.
 *
 * <p>The hard case is a replay the hub answers. wireguard-go rejects an initiation whose timestamp
 * is not newer than the last one it accepted from that peer, but a WireGuard that never saw the
 * initiation answers it. So the initiation is captured while the hub is down — a socket stands on
 * the hub's address and port and keeps the bytes the relay forwards — spoke 1 is then kept quiet
 * so that the hub meets no newer initiation of its, and the hub comes up (with spokes 2 and 3).
 * The relay forwarded the captured initiation from spoke 1's endpoint, so its session index
 * already names spoke 1 for that sender index when the hub answers the replay; SPEC B identifies
 * the unidentified candidate by its sender index all the same, and rule 8 mirrors the answer to it.
 * Then: the replay, answered by the hub; spoke 1's own tunnel comes up beside mallory's live
 * candidate; the candidate expires after 30 s ({@code drop_relearn_unconfirmed} = 1, one strike,
 * no block). Throughout, spoke 1's endpoint never moves and spoke 2's pings to the hub keep
 * crossing.
 */
class HubReplayedInitiationEndToEndTest {

    private static final int MALLORY_PORT = 40000;
    private static final String MALLORY_ENDPOINT = HubAndSpokes.MALLORY_UNDERLAY + ":" + MALLORY_PORT;
    private static final Duration HANDSHAKE = Duration.ofSeconds(30);
    /** The 30 s candidate lifetime, a timer that runs once a second, and a loaded machine. */
    private static final Duration CANDIDATE_EXPIRY = Duration.ofSeconds(50);

    private static final Duration CHILD_JVM = Duration.ofSeconds(60);
    /** Consecutive lost pings (each waits 2 s) that still count as an undisturbed tunnel on a busy host. */
    private static final int MAX_OUTAGE = 2;

    /** The relay and the registered roster, no WireGuard yet, and mallory; closed by JUnit after the test. */
    @AutoClose
    private final HubAndSpokes fixture = HubAndSpokes.start(new HubAndSpokes.Options(false, true));

    @Test
    void aReplayOfSpoke1sInitiationThatTheHubAnswersNeverMovesSpoke1() throws IOException {
        Site hub = fixture.hub;
        Site spoke1 = fixture.spoke(1);
        Site spoke2 = fixture.spoke(2);
        fixture.startSpoke(spoke1);
        Path init = captureAnInitiationOfSpoke1sWhileTheHubIsDown();
        fixture.startHub();
        fixture.startSpoke(spoke2);
        fixture.startSpoke(fixture.spoke(3));
        fixture.awaitPing(spoke2, hub, HANDSHAKE);
        fixture.awaitPing(fixture.spoke(3), hub, HANDSHAKE);

        Pinger pings2 = Pinger.start(fixture, spoke2, hub);
        try {
            String replay = replay(init);
            System.out.print("replay:\n" + replay);
            assertTrue(
                    replay.contains("answered sender="),
                    "mallory must get the hub's answer: the hub answers an initiation it never saw, the answer"
                            + " identifies mallory as spoke1's candidate, and rule 8 mirrors it there; mallory's output:\n"
                            + replay
                            + fixture.diagnostics());
            // The hub's answer named spoke 1 (its MAC1 verifies against spoke 1's key alone): mallory
            // is now spoke 1's candidate, answered, and still not its endpoint.
            JsonNode row = spoke1HasNotMoved();
            assertEquals(MALLORY_ENDPOINT, row.path("candidate_endpoint").asText(), row + "\n" + fixture.diagnostics());

            // Spoke 1's own handshake brings its tunnel up while mallory's answered candidate lives.
            fixture.spokeAddsHub(spoke1);
            fixture.poll(HANDSHAKE, "spoke1's tunnel to come up beside mallory's candidate", () -> {
                spoke1HasNotMoved();
                return fixture.ping(spoke1, hub, 2);
            });

            fixture.poll(CANDIDATE_EXPIRY, "mallory's candidate to expire", () -> {
                spoke1HasNotMoved();
                return fixture.control.counter("drop_relearn_unconfirmed") >= 1;
            });
        } finally {
            pings2.close();
        }
        System.out.println("spoke2's tunnel during the replay: " + pings2.summary());

        JsonNode row = spoke1HasNotMoved();
        assertTrue(row.path("candidate_endpoint").isNull(), row + "\n" + fixture.diagnostics());
        assertEquals(1, fixture.control.counter("drop_relearn_unconfirmed"), fixture.diagnostics());
        assertNull(
                fixture.control.blocklistEntry(HubAndSpokes.MALLORY_UNDERLAY),
                "one failed candidate is one strike, not a block\n" + fixture.diagnostics());
        String log = fixture.relay.output();
        assertFalse(log.contains("relearn peer="), "nothing may relearn here\n" + fixture.diagnostics());
        assertTrue(
                fixture.rosterText()
                        .lines()
                        .anyMatch(line -> line.strip().startsWith("peer spoke1 " + spoke1.endpoint() + " ")),
                "the roster file must still carry spoke1's own endpoint:\n" + fixture.rosterText());
        Map<String, JsonNode> rows = fixture.rows();
        for (Site site : List.of(hub, spoke2, fixture.spoke(3))) {
            assertEquals(site.endpoint(), rows.get(site.name).path("endpoint").asText(), rows.toString());
        }

        assertTrue(
                pings2.longestOutage() <= MAX_OUTAGE,
                "spoke2's tunnel was disturbed: " + pings2.summary() + "\n" + fixture.diagnostics());
        assertTrue(pings2.lastAnswered(), pings2.summary() + "\n" + fixture.diagnostics());
        Command.Result ping = fixture.tunnel(spoke1, hub).ping(5, "0.2");
        assertTrue(
                ping.succeeded() && ping.stdout().contains(" 5 received"),
                "5 of 5 pings from spoke1 after the replay: " + ping.describe() + "\n" + fixture.diagnostics());
    }

    /**
     * The hub is down; a socket on its address and port keeps the first initiation the relay
     * forwards there. Spoke 1's first ping makes it initiate; then it forgets the hub, so that no
     * later initiation of its (a newer timestamp) can reach the hub before mallory's replay.
     */
    private Path captureAnInitiationOfSpoke1sWhileTheHubIsDown() throws IOException {
        Site hub = fixture.hub;
        Path init = fixture.topology.workDir().resolve("spoke1-init.bin");
        try (ChildProcess capture = hub.ns.spawn(
                "init-capture", InitCapture.command(hub.underlay(), HubAndSpokes.PEER_PORT, init, 40_000), Map.of())) {
            capture.awaitLine(line -> line.startsWith("listening"), CHILD_JVM);
            fixture.poll(Duration.ofSeconds(45), "an initiation of spoke1's at the hub's port", () -> {
                fixture.ping(fixture.spoke(1), hub, 1); // unanswered: the hub is down
                return !capture.isAlive();
            });
            OptionalInt exit = capture.awaitExit(Duration.ofSeconds(10));
            assertEquals(OptionalInt.of(0), exit, "init-capture output:\n" + capture.output() + fixture.diagnostics());
        }
        fixture.spokeRemovesHub(fixture.spoke(1));
        byte[] message = Files.readAllBytes(init);
        assertEquals(WgLayout.INITIATION_LENGTH, message.length);
        assertEquals(WgLayout.TYPE_INITIATION, WgLayout.type(message));
        return init;
    }

    /** Mallory replays the initiation, waits 5 s for an answer, then sends three type 4s for it. */
    private String replay(Path init) {
        ChildProcess child = fixture.malloryNs.spawn(
                "replay",
                ReplayAttacker.command(
                        HubAndSpokes.MALLORY_UNDERLAY,
                        MALLORY_PORT,
                        HubAndSpokes.RELAY_ON_MALLORY_SIDE,
                        HubAndSpokes.RELAY_PORT,
                        init,
                        5_000,
                        3),
                Map.of());
        OptionalInt exit = child.awaitExit(CHILD_JVM);
        String output = child.output();
        child.close();
        assertEquals(OptionalInt.of(0), exit, child.label() + " output:\n" + output + fixture.diagnostics());
        return output;
    }

    /** The invariant of the whole test: the relay still sends spoke 1's traffic to its own endpoint. */
    private JsonNode spoke1HasNotMoved() {
        JsonNode row = fixture.row(fixture.spoke(1));
        assertEquals(
                fixture.spoke(1).endpoint(), row.path("endpoint").asText(), "spoke1 moved\n" + fixture.diagnostics());
        assertEquals(0, row.path("endpoint_relearn").asLong(), "spoke1 relearned\n" + fixture.diagnostics());
        return row;
    }
}
