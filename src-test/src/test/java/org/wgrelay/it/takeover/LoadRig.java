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
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.server.handover.HandoverPath;

/**
 * One namespace with a roster of two linked loopback peers, relays started in it as processes,
 * and {@link SequencedLoad} between the peers: what the takeover tests and the restart benchmark
 * share.
 */
final class LoadRig implements AutoCloseable {
    static final int RELAY_PORT = 51820;
    static final int PORT_A = 40001;
    static final int PORT_B = 40002;
    static final int WORKERS = 2;
    static final int RATE = 20_000;
    static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Pattern RESULT =
            Pattern.compile("result sent=(\\d+) received=(\\d+) lost=(\\d+) duplicated=(\\d+)");

    final Topology topology;
    final Netns ns;
    final Path roster;
    private int loads;

    private LoadRig(Topology topology, Netns ns, Path roster) {
        this.topology = topology;
        this.ns = ns;
        this.roster = roster;
    }

    static LoadRig create() throws IOException {
        Prerequisites.check().root().tools("ip").namespaces().enforce();
        Topology topology = Topology.create();
        try {
            Netns ns = topology.namespace("relay");
            Path roster = topology.workDir().resolve("wg-roster");
            Files.writeString(
                    roster,
                    String.join("\n", "peer a 127.0.0.1:" + PORT_A, "peer b 127.0.0.1:" + PORT_B, "link a b", ""));
            return new LoadRig(topology, ns, roster);
        } catch (RuntimeException | IOException e) {
            topology.close();
            throw e;
        }
    }

    /** The sequenced load's outcome. */
    record Result(long sent, long received, long lost, long duplicated) {}

    /** A running load and the file that stops it. */
    record Load(ChildProcess process, Path stopFile) {
        /** Tells the load to stop sending; it then drains and prints its result. */
        void stop() throws IOException {
            Files.createFile(stopFile);
        }
    }

    /** Where the relays of this rig listen for a takeover. */
    Path handoverSocket() {
        return roster.resolveSibling(HandoverPath.FILE_NAME);
    }

    RelayProcess startRelay(String... extraArgs) {
        return topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, extraArgs));
    }

    RelayProcess startRelay(Map<String, String> env, String... extraArgs) {
        return topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, WORKERS, STARTUP, env, extraArgs));
    }

    /** Starts the load at {@link #RATE} and returns once it sends. */
    Load startLoad() {
        Path stop = topology.workDir().resolve("stop-load-" + (++loads));
        ChildProcess load = ns.spawn(
                "sequenced-load", SequencedLoad.command("127.0.0.1", RELAY_PORT, PORT_A, PORT_B, RATE, stop), Map.of());
        load.awaitLine(l -> l.equals("ready"), Duration.ofSeconds(30));
        return new Load(load, stop);
    }

    /**
     * Runs the load until the relay forwarded two seconds' worth of it, then stops it: the
     * measured load then meets a relay in steady state (compiled, not interpreting), as a
     * production upgrade does. (A relay just started, still interpreting, overflowed its 4 MiB
     * receive buffer at 20 kpps on a busy 2-core machine, before any takeover.)
     */
    RelayControl.Counters warmUp(RelayProcess relay) throws IOException {
        Load load = startLoad();
        RelayControl.of(relay, ns)
                .awaitShow(Duration.ofSeconds(60), "2 s of load forwarded", c -> c.get("fwd_packets") >= 2L * RATE);
        load.stop();
        result(load);
        load.process().close();
        return RelayControl.of(relay, ns).show();
    }

    /** Starts a relay with {@code --takeover}; checks both relays' lines and the old one's exit 0. */
    RelayProcess takeOver(RelayProcess old) {
        RelayProcess next = startRelay("--takeover");
        assertTrue(
                next.output().contains("takeover from pid=" + old.pid() + " sockets=" + (WORKERS + 2)),
                "the new relay's takeover line:\n" + next.output());
        OptionalInt exit = old.awaitExit(Duration.ofSeconds(15));
        assertEquals(OptionalInt.of(0), exit, "the old relay exits 0 after handing over:\n" + old.output());
        assertTrue(old.output().contains("handed over to pid=" + next.pid()), old.output());
        return next;
    }

    /** The load's result line, with the namespace's UDP counters (receive buffer overflows are where loss hides). */
    String lastLine(Load load) {
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
        return load.process().output().lines().reduce((x, y) -> y).orElse("") + "\n" + udp + "\n" + drops;
    }

    /** Waits for the stopped load's result. */
    static Result result(Load load) {
        String line = load.process().awaitLine(l -> l.startsWith("result "), Duration.ofSeconds(60));
        Matcher m = RESULT.matcher(line);
        assertTrue(m.find(), line);
        return new Result(
                Long.parseLong(m.group(1)),
                Long.parseLong(m.group(2)),
                Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)));
    }

    @Override
    public void close() {
        topology.close();
        topology.assertNothingLeft();
    }
}
