package org.wgrelay.it.takeover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.server.handover.HandoverClient;
import org.wgrelay.server.handover.Takeover;

/**
 * SPEC D, on the userspace path: relays that take each other's sockets over ({@code serve
 * --takeover}) while WireGuard-shaped traffic with sequence numbers flows through them at 20 kpps
 * lose no datagram, and a takeover that cannot happen falls back or leaves the running relay
 * serving. Every relay is a process of its own in one namespace, as in production; the traffic is
 * {@link SequencedLoad}, which counts loss per sequence number.
 */
class SocketTakeoverEndToEndTest {
    private LoadRig rig;

    @BeforeEach
    void namespaceWithARosterOfTwoLinkedLoopbackPeers() throws IOException {
        rig = LoadRig.create();
    }

    @AfterEach
    void closeEverything() {
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void tenTakeoversInARowUnderTwentyKppsLoseNoDatagramAndKeepTheCounters() throws Exception {
        RelayProcess relay = rig.startRelay();
        RelayControl.Counters before = rig.warmUp(relay);
        LoadRig.Load load = rig.startLoad();
        for (int i = 1; i <= 10; i++) {
            relay = rig.takeOver(relay);
        }
        load.stop();
        LoadRig.Result r = LoadRig.result(load);
        System.out.println("10 takeovers under load: " + rig.lastLine(load));
        assertTrue(r.sent() > 10L * LoadRig.RATE / 2, "the load ran through the takeovers: " + r);
        assertEquals(0, r.lost(), "datagrams lost across 10 takeovers (per sequence number): " + rig.lastLine(load));
        assertEquals(0, r.duplicated(), "datagrams delivered twice");
        // Counters continue: the last relay's totals include what each earlier one counted.
        RelayControl.Counters show = RelayControl.of(relay, rig.ns).show();
        assertEquals(r.sent(), show.since(before, "fwd_packets"), "fwd_packets summed over the 11 relays");
        assertEquals(r.sent(), show.since(before, "rx_packets"), "rx_packets summed over the 11 relays");
    }

    @Test
    void aTakeoverThatBreaksOffBeforeRunningLeavesTheOldRelayServing() throws Exception {
        RelayProcess relay = rig.startRelay();
        rig.warmUp(relay);
        LoadRig.Load load = rig.startLoad();
        // A new relay that receives the sockets and then dies: this test's JVM plays it (a Unix
        // socket with a path is reachable from any network namespace).
        Takeover broken = HandoverClient.takeOver(rig.handoverSocket(), Duration.ofSeconds(5));
        assertEquals(LoadRig.WORKERS + 2, broken.socketCount(), "sockets received");
        broken.abort(null); // closes the connection and the received descriptors, says nothing
        relay.awaitLine(l -> l.contains("broke off before it ran; still serving"), Duration.ofSeconds(10));
        assertTrue(relay.isAlive(), "the old relay still runs");
        relay = rig.takeOver(relay); // ... and can still be taken over
        load.stop();
        assertEquals(0, LoadRig.result(load).lost(), "datagrams lost: " + rig.lastLine(load));
    }

    @Test
    void aNewRelayThatGoesAwayAfterTheOldStoppedReadingLetsTheOldOneReadAgainWithoutLoss() throws Exception {
        RelayProcess relay = rig.startRelay();
        rig.warmUp(relay);
        LoadRig.Load load = rig.startLoad();
        Takeover broken = HandoverClient.takeOver(rig.handoverSocket(), Duration.ofSeconds(5));
        // The old relay stops reading, answers with its counters, and waits for "done".
        assertTrue(broken.confirmRunning().path("counters").path("fwd_packets").asLong() > 0, "its counters");
        broken.abort(null); // nobody reads the sockets now, until the old relay notices
        relay.awaitLine(l -> l.contains("serving again"), Duration.ofSeconds(10));
        assertTrue(relay.isAlive(), "the old relay still runs");
        load.stop();
        assertEquals(
                0,
                LoadRig.result(load).lost(),
                "datagrams lost: the queue waited in the sockets while nobody read: " + rig.lastLine(load));
    }

    @Test
    void underSystemdTheNewRelayNamesItselfTheMainProcessBeforeTheOldOneExits() throws Exception {
        try (NotifySocket systemd = new NotifySocket(rig.topology.workDir().resolve("notify"))) {
            Map<String, String> env = Map.of("NOTIFY_SOCKET", systemd.path().toString());
            RelayProcess old = rig.startRelay(env);
            assertTrue(systemd.next(Duration.ofSeconds(10)).contains("READY=1"), "Type=notify start");
            RelayProcess next = rig.startRelay(env, "--takeover");
            String notice = systemd.next(Duration.ofSeconds(10));
            assertTrue(notice.contains("MAINPID=" + next.pid()) && notice.contains("READY=1"), notice);
            // The old relay exits only after the new one told systemd (it waits for "done").
            assertEquals(OptionalInt.of(0), old.awaitExit(Duration.ofSeconds(15)), old.output());
        }
    }

    @Test
    void takeoverWithNoRelayRunningStartsNormallyAndSaysSo() {
        RelayProcess relay = rig.startRelay("--takeover");
        assertTrue(relay.output().contains("no relay to take over (no handover socket"), relay.output());
        assertTrue(Files.exists(rig.handoverSocket()), "it listens for the next takeover");
    }

    @Test
    void takeoverAfterAKilledRelayFindsTheStaleSocketAndStartsNormally() throws Exception {
        RelayProcess killed = rig.startRelay();
        rig.ns.exec(Duration.ofSeconds(10), "kill", "-KILL", Long.toString(killed.pid()));
        assertTrue(killed.awaitExit(Duration.ofSeconds(10)).isPresent(), "the relay died");
        assertTrue(Files.exists(rig.handoverSocket()), "SIGKILL leaves the socket file");
        RelayProcess relay = rig.startRelay("--takeover");
        assertTrue(relay.output().contains("nobody listens on the stale handover socket"), relay.output());
        rig.warmUp(relay);
        LoadRig.Load load = rig.startLoad();
        relay = rig.takeOver(relay); // and the new socket works
        load.stop();
        assertEquals(0, LoadRig.result(load).lost(), "datagrams lost: " + rig.lastLine(load));
    }

    @Test
    void takeoverFromAStoppedRelayThatDoesNotAnswerStartsNormally() {
        RelayProcess stuck = rig.startRelay();
        rig.ns.exec(Duration.ofSeconds(10), "kill", "-STOP", Long.toString(stuck.pid()));
        try {
            RelayProcess relay = rig.startRelay("--takeover");
            assertTrue(relay.output().contains("did not answer"), relay.output());
        } finally {
            rig.ns.exec(Duration.ofSeconds(10), "kill", "-CONT", Long.toString(stuck.pid()));
        }
    }
}
