package org.wgrelay.it.netns;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.wgrelay.server.daemon.Main;

/**
 * The wg-relay daemon ({@code Main serve}) as a child JVM inside a namespace. {@link Main} is
 * referenced by class, so moving it breaks the build rather than the run.
 *
 * <p>{@link #start} returns once the daemon printed its startup line (SPEC, "Daemon command
 * line"), or throws with its output when it exits or stays silent past the deadline. {@link #stop}
 * sends SIGTERM and records the exit code, which the SPEC requires to be 0.
 */
public final class RelayProcess implements AutoCloseable {

    /** The SPEC's startup line starts with this. */
    public static final String STARTUP_PREFIX = "wg-relay listening on udp ";

    private static final Duration STOP_GRACE = Duration.ofSeconds(15);

    private final ChildProcess child;
    private final String startupLine;

    private RelayProcess(ChildProcess child, String startupLine) {
        this.child = child;
        this.startupLine = startupLine;
    }

    /**
     * Starts {@code serve --bind bind --port port --roster roster --workers workers} with control
     * and metrics listeners on ephemeral loopback ports of the namespace, plus {@code extraArgs}.
     */
    public static RelayProcess start(
            Netns ns, String bind, int port, Path roster, int workers, Duration startupDeadline, String... extraArgs) {
        return start(ns, bind, port, roster, workers, startupDeadline, Map.of(), extraArgs);
    }

    /**
     * As {@link #start(Netns, String, int, Path, int, Duration, String...)}, with {@code env}
     * added to the daemon's environment (e.g. {@code WG_RELAY_XDP_HELPER}, which is not an option).
     */
    public static RelayProcess start(
            Netns ns,
            String bind,
            int port,
            Path roster,
            int workers,
            Duration startupDeadline,
            Map<String, String> env,
            String... extraArgs) {
        List<String> argv = argv(bind, port, roster, workers, extraArgs);
        ChildProcess child = ns.spawn("wg-relay", argv, env);
        try {
            String line = child.awaitLine(l -> l.contains(STARTUP_PREFIX), startupDeadline);
            return new RelayProcess(child, line);
        } catch (RuntimeException e) {
            child.close();
            throw e;
        }
    }

    /**
     * The JVM argv that {@link #start} runs, for a test that runs it to completion itself (a
     * refused start, whose stdout and stderr it wants apart).
     */
    public static List<String> argv(String bind, int port, Path roster, int workers, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of(
                "serve",
                "--bind",
                bind,
                "--port",
                Integer.toString(port),
                "--roster",
                roster.toString(),
                "--workers",
                Integer.toString(workers),
                "--control",
                "127.0.0.1:0",
                "--metrics",
                "127.0.0.1:0"));
        args.addAll(List.of(extraArgs));
        return JavaCommand.of(
                List.of("-Xmx512m", "-XX:+ExitOnOutOfMemoryError"), Main.class.getName(), args.toArray(String[]::new));
    }

    /** The daemon JVM's pid (a test of what a SIGKILLed relay leaves behind kills it directly). */
    public long pid() {
        return child.pid();
    }

    /** The startup line as printed (possibly behind a logger prefix). */
    public String startupLine() {
        return startupLine;
    }

    /** Waits for the daemon to exit by itself (after a takeover, say); empty while it still runs. */
    public java.util.OptionalInt awaitExit(Duration timeout) {
        return child.awaitExit(timeout);
    }

    /** Waits for a line matching {@code matcher}; throws with the output when it does not come. */
    public String awaitLine(java.util.function.Predicate<String> matcher, Duration timeout) {
        return child.awaitLine(matcher, timeout);
    }

    public boolean isAlive() {
        return child.isAlive();
    }

    /** Everything the daemon printed so far, stdout and stderr merged. */
    public String output() {
        return child.output();
    }

    /** SIGTERM, wait, SIGKILL after the grace period; returns (and records) the exit code. */
    public int stop() {
        return child.stop(STOP_GRACE);
    }

    /** The exit code recorded by {@link #stop} or {@link #close}, if either ran. */
    public Optional<Integer> exitCode() {
        return child.stoppedWith();
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return child.toString();
    }
}
