package org.wgrelay.it.netns;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One network namespace created for a test, with the commands and children run inside it.
 *
 * <p>Closing stops every child spawned through {@link #spawn}, then SIGKILLs whatever else still
 * lives in the namespace ({@code ip netns pids}), then deletes it; the veth ends inside go with
 * it. Names come from {@link Topology}, which makes them unique per run.
 */
public final class Netns implements AutoCloseable {

    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);

    private final String name;
    private final String ip;
    private final List<ChildProcess> children = Collections.synchronizedList(new ArrayList<>());
    private boolean closed;

    private Netns(String name) {
        this.name = name;
        this.ip = Prerequisites.which("ip");
    }

    /** Creates namespace {@code name} with its loopback up (the relay's control port lives there). */
    static Netns create(String name) {
        Netns ns = new Netns(name);
        Command.check(COMMAND_TIMEOUT, List.of(ns.ip, "netns", "add", name));
        try {
            ns.ip("link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    public String name() {
        return name;
    }

    /** Runs {@code ip -n NAME args...} and throws with stderr unless it succeeds. */
    public Command.Result ip(String... args) {
        List<String> argv = new ArrayList<>(List.of(ip, "-n", name));
        argv.addAll(List.of(args));
        return Command.check(COMMAND_TIMEOUT, argv);
    }

    /** Runs {@code argv} inside the namespace and throws with stderr unless it exits 0. */
    public Command.Result exec(Duration timeout, String... argv) {
        return Command.check(timeout, inside(List.of(argv)));
    }

    /** Runs {@code argv} inside the namespace and returns the result whatever the exit code. */
    public Command.Result tryExec(Duration timeout, String... argv) {
        return Command.run(timeout, inside(List.of(argv)));
    }

    /**
     * Starts a long-running {@code argv} inside the namespace. {@code ip netns exec} execs the
     * command in place, so the child's pid is the command's own and SIGTERM reaches it directly.
     */
    public ChildProcess spawn(String label, List<String> argv, Map<String, String> extraEnv) {
        ChildProcess child = ChildProcess.start(label + "@" + name, inside(argv), extraEnv);
        children.add(child);
        return child;
    }

    /** The argv that runs {@code argv} inside this namespace. */
    public List<String> inside(List<String> argv) {
        List<String> full = new ArrayList<>(List.of(ip, "netns", "exec", name));
        full.addAll(argv);
        return full;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        List<ChildProcess> toStop;
        synchronized (children) {
            toStop = new ArrayList<>(children);
        }
        Collections.reverse(toStop);
        for (ChildProcess child : toStop) {
            try {
                child.close();
            } catch (RuntimeException e) {
                failure = accumulate(failure, e);
            }
        }
        try {
            killStragglers();
        } catch (RuntimeException e) {
            failure = accumulate(failure, e);
        }
        Command.Result deleted = Command.run(COMMAND_TIMEOUT, List.of(ip, "netns", "del", name));
        if (!deleted.succeeded()) {
            failure = accumulate(failure, new Command.FailedException(deleted));
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** A namespace outlives `ip netns del` while any process still lives in it. */
    private void killStragglers() {
        Command.Result pids = Command.run(COMMAND_TIMEOUT, List.of(ip, "netns", "pids", name));
        if (!pids.succeeded()) {
            return; // the namespace is already gone
        }
        List<ProcessHandle> killed = new ArrayList<>();
        for (String token : pids.stdout().split("\\s+")) {
            if (token.isBlank()) {
                continue;
            }
            Optional<ProcessHandle> handle = ProcessHandle.of(Long.parseLong(token));
            handle.ifPresent(h -> {
                h.destroyForcibly();
                killed.add(h);
            });
        }
        for (ProcessHandle handle : killed) {
            try {
                handle.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("pid " + handle.pid() + " in " + name + " survived SIGKILL", e);
            }
        }
    }

    private static RuntimeException accumulate(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    @Override
    public String toString() {
        return name;
    }
}
