package org.wgrelay.it.takeover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.server.handover.HandoverClient;
import org.wgrelay.server.handover.HandoverPath;
import org.wgrelay.server.handover.Takeover;

/**
 * SPEC D, on the userspace path: relays that take each other's sockets over ({@code serve
 * --takeover}) while WireGuard-shaped traffic with sequence numbers flows through them at 20 kpps
 * lose no datagram, and a takeover that cannot happen falls back or leaves the running relay
 * serving. Every relay is a process of its own in one namespace, as in production; the traffic is
 * {@link SequencedLoad}, which counts loss per sequence number.
 */
class SocketTakeoverEndToEndTest {
    private static final int RELAY_PORT = 51820;
    private static final int PORT_A = 40001;
    private static final int PORT_B = 40002;
    private static final int WORKERS = 2;
    private static final int RATE = 20_000;
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Pattern RESULT =
            Pattern.compile("result sent=(\\d+) received=(\\d+) lost=(\\d+) duplicated=(\\d+)");

    private Topology topology;
    private Netns ns;
    private Path roster;

    @BeforeEach
    void namespaceWithARosterOfTwoLinkedLoopbackPeers() throws IOException {
        Prerequisites.check().root().tools("ip").namespaces().enforce();
        topology = Topology.create();
        ns = topology.namespace("relay");
        roster = topology.workDir().resolve("wg-roster");
        Files.writeString(
                roster, String.join("\n", "peer a 127.0.0.1:" + PORT_A, "peer b 127.0.0.1:" + PORT_B, "link a b", ""));
    }

    @AfterEach
    void closeEverything() {
        if (topology != null) {
            topology.close();
            topology.assertNothingLeft();
        }
    }

    @Test
    void tenTakeoversInARowUnderTwentyKppsLoseNoDatagramAndKeepTheCounters() throws Exception {
        RelayProcess relay = startRelay();
        RelayControl.Counters before = warmUp(relay);
        Path stop = topology.workDir().resolve("stop-load");
        ChildProcess load = startLoad(stop);
        for (int i = 1; i <= 10; i++) {
            relay = takeOver(relay);
        }
        Files.createFile(stop);
        long[] r = result(load);
        long sent = r[0];
        System.out.println("10 takeovers under load: "
                + load.output().lines().reduce((x, y) -> y).orElse(""));
        assertTrue(sent > 10 * RATE / 2, "the load ran through the takeovers: " + sent + " sent");
        assertEquals(0, r[2], "datagrams lost across 10 takeovers (per sequence number): " + lastLine(load));
        assertEquals(0, r[3], "datagrams delivered twice");
        // Counters continue: the last relay's totals include what each earlier one counted.
        RelayControl.Counters show = RelayControl.of(relay, ns).show();
        assertEquals(sent, show.since(before, "fwd_packets"), "fwd_packets summed over the 11 relays");
        assertEquals(sent, show.since(before, "rx_packets"), "rx_packets summed over the 11 relays");
    }

    @Test
    void aTakeoverThatBreaksOffBeforeRunningLeavesTheOldRelayServing() throws Exception {
        RelayProcess relay = startRelay();
        warmUp(relay);
        Path stop = topology.workDir().resolve("stop-load");
        ChildProcess load = startLoad(stop);
        // A new relay that receives the sockets and then dies: this test's JVM plays it (a Unix
        // socket with a path is reachable from any network namespace).
        Takeover broken = HandoverClient.takeOver(handoverSocket(), Duration.ofSeconds(5));
        assertEquals(WORKERS + 2, broken.socketCount(), "sockets received");
        broken.abort(null); // closes the connection and the received descriptors, says nothing
        relay.awaitLine(l -> l.contains("broke off before it ran; still serving"), Duration.ofSeconds(10));
        assertTrue(relay.isAlive(), "the old relay still runs");
        // ... and can still be taken over.
        relay = takeOver(relay);
        Files.createFile(stop);
        long[] r = result(load);
        assertEquals(0, r[2], "datagrams lost: " + lastLine(load));
    }

    @Test
    void aNewRelayThatGoesAwayAfterTheOldStoppedReadingLetsTheOldOneReadAgainWithoutLoss() throws Exception {
        RelayProcess relay = startRelay();
        warmUp(relay);
        Path stop = topology.workDir().resolve("stop-load");
        ChildProcess load = startLoad(stop);
        Takeover broken = HandoverClient.takeOver(handoverSocket(), Duration.ofSeconds(5));
        // The old relay stops reading, answers with its counters, and waits for "done".
        assertTrue(broken.confirmRunning().path("counters").path("fwd_packets").asLong() > 0, "its counters");
        broken.abort(null); // nobody reads the sockets now, until the old relay notices
        relay.awaitLine(l -> l.contains("serving again"), Duration.ofSeconds(10));
        assertTrue(relay.isAlive(), "the old relay still runs");
        Files.createFile(stop);
        long[] r = result(load);
        assertEquals(0, r[2], "datagrams lost: the queue waited in the sockets while nobody read: " + lastLine(load));
    }

    @Test
    void underSystemdTheNewRelayNamesItselfTheMainProcessBeforeTheOldOneExits() throws Exception {
        try (NotifySocket systemd = new NotifySocket(topology.workDir().resolve("notify"))) {
            Map<String, String> env = Map.of("NOTIFY_SOCKET", systemd.path().toString());
            RelayProcess old =
                    topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, env));
            assertTrue(systemd.next(Duration.ofSeconds(10)).contains("READY=1"), "Type=notify start");
            RelayProcess next = topology.adopt(
                    RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, env, "--takeover"));
            String notice = systemd.next(Duration.ofSeconds(10));
            assertTrue(notice.contains("MAINPID=" + next.pid()) && notice.contains("READY=1"), notice);
            // The old relay exits only after the new one told systemd (it waits for "done").
            assertEquals(OptionalInt.of(0), old.awaitExit(Duration.ofSeconds(15)), old.output());
        }
    }

    @Test
    void takeoverWithNoRelayRunningStartsNormallyAndSaysSo() {
        RelayProcess relay =
                topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, "--takeover"));
        assertTrue(relay.output().contains("no relay to take over (no handover socket"), relay.output());
        assertTrue(Files.exists(handoverSocket()), "it listens for the next takeover");
    }

    @Test
    void takeoverAfterAKilledRelayFindsTheStaleSocketAndStartsNormally() throws Exception {
        RelayProcess killed = startRelay();
        ns.exec(Duration.ofSeconds(10), "kill", "-KILL", Long.toString(killed.pid()));
        assertTrue(killed.awaitExit(Duration.ofSeconds(10)).isPresent(), "the relay died");
        assertTrue(Files.exists(handoverSocket()), "SIGKILL leaves the socket file");
        RelayProcess relay =
                topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, "--takeover"));
        assertTrue(relay.output().contains("nobody listens on the stale handover socket"), relay.output());
        warmUp(relay);
        Path stop = topology.workDir().resolve("stop-load");
        ChildProcess load = startLoad(stop);
        relay = takeOver(relay); // and the new socket works
        Files.createFile(stop);
        assertEquals(0, result(load)[2], "datagrams lost: " + lastLine(load) + "\n" + relay.output());
    }

    @Test
    void takeoverFromAStoppedRelayThatDoesNotAnswerStartsNormally() throws Exception {
        RelayProcess stuck = startRelay();
        ns.exec(Duration.ofSeconds(10), "kill", "-STOP", Long.toString(stuck.pid()));
        try {
            RelayProcess relay = topology.adopt(
                    RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, "--takeover"));
            assertTrue(relay.output().contains("did not answer"), relay.output());
        } finally {
            ns.exec(Duration.ofSeconds(10), "kill", "-CONT", Long.toString(stuck.pid()));
        }
    }

    private Path handoverSocket() {
        return roster.resolveSibling(HandoverPath.FILE_NAME);
    }

    private RelayProcess startRelay() {
        return topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP));
    }

    private ChildProcess startLoad(Path stop) {
        ChildProcess load = ns.spawn(
                "sequenced-load", SequencedLoad.command("127.0.0.1", RELAY_PORT, PORT_A, PORT_B, RATE, stop), Map.of());
        load.awaitLine(l -> l.equals("ready"), Duration.ofSeconds(30));
        return load;
    }

    /**
     * Runs the load until the relay forwarded two seconds' worth of it, then stops it: the
     * measured load then meets a relay in steady state (compiled, not interpreting), as a
     * production upgrade does. (A relay just started, still interpreting, overflowed its 4 MiB
     * receive buffer at 20 kpps on a busy 2-core machine, before any takeover.)
     */
    private RelayControl.Counters warmUp(RelayProcess relay) throws IOException {
        Path stop = topology.workDir().resolve("stop-warm-up");
        ChildProcess load = startLoad(stop);
        RelayControl.of(relay, ns)
                .awaitShow(Duration.ofSeconds(60), "2 s of load forwarded", c -> c.get("fwd_packets") >= 2L * RATE);
        Files.createFile(stop);
        result(load);
        load.close();
        return RelayControl.of(relay, ns).show();
    }

    /** Starts a relay with {@code --takeover}; checks both relays' lines and the old one's exit 0. */
    private RelayProcess takeOver(RelayProcess old) {
        RelayProcess next =
                topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, "--takeover"));
        assertTrue(
                next.output().contains("takeover from pid=" + old.pid() + " sockets=" + (WORKERS + 2)),
                "the new relay's takeover line:\n" + next.output());
        OptionalInt exit = old.awaitExit(Duration.ofSeconds(15));
        assertEquals(OptionalInt.of(0), exit, "the old relay exits 0 after handing over:\n" + old.output());
        assertTrue(old.output().contains("handed over to pid=" + next.pid()), old.output());
        return next;
    }

    /** The load's result line, with the namespace's UDP counters (receive buffer overflows are where loss hides). */
    private String lastLine(ChildProcess load) {
        String udp = ns.tryExec(Duration.ofSeconds(10), "cat", "/proc/net/snmp")
                .stdout()
                .lines()
                .filter(l -> l.startsWith("Udp:"))
                .reduce((x, y) -> x + " / " + y)
                .orElse("");
        // Per socket: local address (hex) and the kernel's drop count, the last column.
        String drops = ns.tryExec(Duration.ofSeconds(10), "cat", "/proc/net/udp")
                .stdout()
                .lines()
                .skip(1)
                .map(l -> l.trim().split("\\s+"))
                .map(f -> f[1] + " drops=" + f[f.length - 1])
                .reduce((x, y) -> x + ", " + y)
                .orElse("");
        return load.output().lines().reduce((x, y) -> y).orElse("") + "\n" + udp + "\n" + drops;
    }

    /** sent, received, lost, duplicated. */
    private static long[] result(ChildProcess load) {
        String line = load.awaitLine(l -> l.startsWith("result "), Duration.ofSeconds(60));
        Matcher m = RESULT.matcher(line);
        assertTrue(m.find(), line);
        return new long[] {
            Long.parseLong(m.group(1)),
            Long.parseLong(m.group(2)),
            Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4))
        };
    }
}
