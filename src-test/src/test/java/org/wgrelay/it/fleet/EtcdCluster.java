package org.wgrelay.it.fleet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;

/**
 * A real etcd cluster for the fleet tests: one {@code /usr/bin/etcd} process per member (Debian's
 * {@code etcd-server}), all in one network namespace, each member on an address of its own with
 * etcd's standard ports (client 2379, peer 2380).
 *
 * <p>The namespace is what makes the ports free: nothing else listens in a namespace a test just
 * created, so a host etcd on 2379 (or one that apt started) never collides with the test's, and no
 * port has to be guessed. Members on {@code 127.0.0.x} are reachable only inside that namespace
 * ({@link #etcdctl} runs there); members on an address of a veth are reachable from the relays'
 * namespaces.
 *
 * <p>Data directories live in a temporary directory of their own. {@link #close} SIGKILLs every
 * member and deletes it; a JVM shutdown hook does the same if the test JVM ends first.
 */
public final class EtcdCluster implements AutoCloseable {

    public static final int CLIENT_PORT = 2379;
    public static final int PEER_PORT = 2380;

    private static final Duration HEALTHY = Duration.ofSeconds(60);
    private static final Duration ETCDCTL = Duration.ofSeconds(30);

    /** One member: its name, address, and data directory (kept across {@link #kill}/{@link #restart}). */
    public record Member(String name, String ip, Path dataDir) {
        public String clientUrl() {
            return "http://" + ip + ":" + CLIENT_PORT;
        }

        public String peerUrl() {
            return "http://" + ip + ":" + PEER_PORT;
        }
    }

    private final Netns ns;
    private final Path dir;
    private final List<Member> members;
    private final ChildProcess[] processes;
    private final Thread shutdownHook;
    private boolean closed;

    private EtcdCluster(Netns ns, Path dir, List<Member> members) {
        this.ns = ns;
        this.dir = dir;
        this.members = members;
        this.processes = new ChildProcess[members.size()];
        this.shutdownHook = new Thread(this::teardown, "etcd-cluster-teardown");
    }

    /**
     * Starts one member per address in {@code ips} (which must already be configured in {@code ns})
     * as a new cluster and returns once every member reports healthy; on failure everything started
     * is stopped and the exception carries the members' output.
     */
    public static EtcdCluster start(Netns ns, List<String> ips) {
        Prerequisites.check().tools("etcd", "etcdctl").enforce();
        Path dir;
        try {
            dir = Files.createTempDirectory("wgr-etcd-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < ips.size(); i++) {
            members.add(new Member("m" + (i + 1), ips.get(i), dir.resolve("m" + (i + 1))));
        }
        EtcdCluster cluster = new EtcdCluster(ns, dir, List.copyOf(members));
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            for (int i = 0; i < members.size(); i++) {
                cluster.launch(i);
            }
            cluster.awaitHealthy(HEALTHY);
            return cluster;
        } catch (RuntimeException | Error e) {
            String output = cluster.output();
            try {
                cluster.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalStateException("etcd cluster did not come up; members' output:\n" + output, e);
        }
    }

    /**
     * Starts member {@code i}. A data directory that exists already makes etcd rejoin with its
     * stored identity; the {@code --initial-*} flags then are ignored.
     */
    private void launch(int i) {
        Member m = members.get(i);
        String initialCluster =
                members.stream().map(x -> x.name() + "=" + x.peerUrl()).collect(Collectors.joining(","));
        List<String> argv = List.of(
                Prerequisites.which("etcd"),
                "--name",
                m.name(),
                "--data-dir",
                m.dataDir().toString(),
                "--listen-client-urls",
                m.clientUrl(),
                "--advertise-client-urls",
                m.clientUrl(),
                "--listen-peer-urls",
                m.peerUrl(),
                "--initial-advertise-peer-urls",
                m.peerUrl(),
                "--initial-cluster",
                initialCluster,
                "--initial-cluster-state",
                "new",
                "--initial-cluster-token",
                "wgr-" + dir.getFileName(),
                "--logger",
                "zap",
                "--log-level",
                "warn");
        processes[i] = ns.spawn("etcd " + m.name(), argv, Map.of());
    }

    public List<Member> members() {
        return members;
    }

    /** Every member's client URL, comma-separated: the relays' {@code --etcd-endpoints}. */
    public String endpoints() {
        return members.stream().map(Member::clientUrl).collect(Collectors.joining(","));
    }

    /** SIGKILLs member {@code i} (no graceful leave: what a crashed host looks like to the others). */
    public void kill(int i) {
        processes[i].kill();
    }

    /** Starts member {@code i} again on its data directory and waits until it reports healthy. */
    public void restart(int i) {
        if (processes[i].isAlive()) {
            throw new IllegalStateException("member " + members.get(i).name() + " still runs");
        }
        launch(i);
        awaitHealthy(HEALTHY, i);
    }

    public boolean isAlive(int i) {
        return processes[i].isAlive();
    }

    /**
     * Waits until {@code etcdctl endpoint health} passes for the given members (all when none are
     * named): each has a leader and commits a proposal.
     */
    public void awaitHealthy(Duration timeout, int... which) {
        List<Member> subject = new ArrayList<>();
        if (which.length == 0) {
            subject.addAll(members);
        } else {
            for (int i : which) {
                subject.add(members.get(i));
            }
        }
        String endpoints = subject.stream().map(Member::clientUrl).collect(Collectors.joining(","));
        long deadline = System.nanoTime() + timeout.toNanos();
        Command.Result last;
        while (true) {
            for (int i = 0; i < processes.length; i++) {
                if (processes[i] != null && !processes[i].isAlive() && subject.contains(members.get(i))) {
                    throw new IllegalStateException(
                            "etcd " + members.get(i).name() + " exited; output:\n" + processes[i].output());
                }
            }
            last = ns.tryExec(
                    ETCDCTL,
                    Prerequisites.which("etcdctl"),
                    "--endpoints",
                    endpoints,
                    "--dial-timeout",
                    "1s",
                    "--command-timeout",
                    "2s",
                    "endpoint",
                    "health");
            if (last.succeeded()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("etcd members " + endpoints + " not healthy within "
                        + timeout.toSeconds() + " s: " + last.describe());
            }
            sleep(100);
        }
    }

    /** {@code etcdctl --endpoints <every member> args...} in the cluster's namespace, whatever the exit code. */
    public Command.Result etcdctl(String... args) {
        return etcdctlVia(endpoints(), args);
    }

    /** {@code etcdctl} talking to member {@code i} alone, whatever the exit code. */
    public Command.Result etcdctlAt(int i, String... args) {
        return etcdctlVia(members.get(i).clientUrl(), args);
    }

    private Command.Result etcdctlVia(String endpoints, String... args) {
        List<String> argv = new ArrayList<>(List.of(
                Prerequisites.which("etcdctl"),
                "--endpoints",
                endpoints,
                "--dial-timeout",
                "2s",
                "--command-timeout",
                "5s"));
        argv.addAll(List.of(args));
        return ns.tryExec(ETCDCTL, argv.toArray(String[]::new));
    }

    /** As {@link #etcdctl}, failing unless it exits 0. */
    public String etcdctlOk(String... args) {
        Command.Result result = etcdctl(args);
        if (!result.succeeded()) {
            throw new AssertionError(result.describe() + "\netcd output:\n" + output());
        }
        return result.stdout();
    }

    /** The cluster's revision, from the header of a read. */
    public long revision() {
        String json = etcdctlOk("get", "--prefix", "/", "--keys-only", "--limit", "1", "-w", "json");
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("\"revision\":(\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no revision in " + json);
        }
        return Long.parseLong(m.group(1));
    }

    /** Every key under {@code prefix} with its value, in key order (values as etcd stores them). */
    public Map<String, String> getPrefix(String prefix) {
        String[] lines = etcdctlOk("get", "--prefix", prefix).split("\n", -1);
        Map<String, String> kv = new LinkedHashMap<>();
        // etcdctl prints key, value, key, value ... one per line (a value holds no newline here).
        for (int i = 0; i + 1 < lines.length; i += 2) {
            if (lines[i].isEmpty()) {
                break;
            }
            kv.put(lines[i], lines[i + 1]);
        }
        return kv;
    }

    /** The members' output, for failure messages. */
    public String output() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < processes.length; i++) {
            if (processes[i] != null) {
                text.append("--- etcd ")
                        .append(members.get(i).name())
                        .append(processes[i].isAlive() ? " (running)" : " (exited)")
                        .append(":\n")
                        .append(processes[i].output());
            }
        }
        return text.toString();
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down; the hook runs the same teardown.
        }
        teardown();
    }

    private synchronized void teardown() {
        if (closed) {
            return;
        }
        closed = true;
        for (ChildProcess process : processes) {
            if (process != null) {
                process.kill();
            }
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "etcd cluster " + endpoints() + " in " + ns.name();
    }
}
