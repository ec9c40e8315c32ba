package org.wgrelay.it.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;

/**
 * Owns everything one test run creates: namespaces, veth pairs, a scratch directory, and the
 * processes started on top of them, and tears it all down in reverse order of creation.
 *
 * <p>Every name carries a random six-hex-digit suffix ({@code wgr-3fa2c1-relay} for a namespace,
 * {@code wgr3fa2c1wa} for an interface), so parallel runs and leftovers of a killed run never
 * collide. Interface names stay within the kernel's 15 characters; that matters for wireguard-go,
 * whose control socket {@code /var/run/wireguard/<ifname>.sock} is shared by all namespaces.
 *
 * <p>A JVM shutdown hook closes the topology if the test JVM is terminated before the test's own
 * teardown runs (for example a surefire timeout).
 */
public final class Topology implements AutoCloseable {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_IFNAME = 15;

    private final String suffix;
    private final Path workDir;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final Thread shutdownHook;
    private boolean closed;

    private Topology(String suffix, Path workDir) {
        this.suffix = suffix;
        this.workDir = workDir;
        this.shutdownHook = new Thread(this::closeQuietly, "topology-" + suffix + "-teardown");
    }

    /** A fresh, empty topology with its own suffix and scratch directory. */
    public static Topology create() {
        String suffix = String.format("%06x", RANDOM.nextInt(1 << 24));
        Path workDir;
        try {
            workDir = Files.createTempDirectory("wgr-" + suffix + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Topology topology = new Topology(suffix, workDir);
        Runtime.getRuntime().addShutdownHook(topology.shutdownHook);
        return topology;
    }

    /** The random part of every name this topology creates. */
    public String suffix() {
        return suffix;
    }

    /** A scratch directory deleted at close (keys, roster, payload files). */
    public Path workDir() {
        return workDir;
    }

    /** Creates namespace {@code wgr-<suffix>-<role>}. */
    public synchronized Netns namespace(String role) {
        return adopt(Netns.create("wgr-" + suffix + "-" + role));
    }

    /** {@code wgr<suffix><tag>}, checked against the kernel's interface name limit. */
    public String interfaceName(String tag) {
        String name = "wgr" + suffix + tag;
        if (name.length() > MAX_IFNAME) {
            throw new IllegalArgumentException("interface name " + name + " exceeds " + MAX_IFNAME + " chars");
        }
        return name;
    }

    /**
     * Connects {@code a} and {@code b} with a veth pair named after {@code tagA}/{@code tagB},
     * assigns {@code cidrA}/{@code cidrB} (e.g. {@code 10.231.1.1/24}) and sets both ends up. The
     * pair disappears with either namespace.
     */
    public void connect(Netns a, String tagA, String cidrA, Netns b, String tagB, String cidrB) {
        String ifA = interfaceName(tagA);
        String ifB = interfaceName(tagB);
        Command.check(
                Netns.COMMAND_TIMEOUT,
                List.of(
                        Prerequisites.which("ip"),
                        "link",
                        "add",
                        ifA,
                        "netns",
                        a.name(),
                        "type",
                        "veth",
                        "peer",
                        "name",
                        ifB,
                        "netns",
                        b.name()));
        a.ip("addr", "add", cidrA, "dev", ifA);
        b.ip("addr", "add", cidrB, "dev", ifB);
        a.ip("link", "set", ifA, "up");
        b.ip("link", "set", ifB, "up");
    }

    /**
     * The layout of the relay tests: namespaces {@code relay}, {@code alice} and {@code bob}, the
     * relay wired to each side by a veth pair on a /24 of its own ({@code relayOnAliceSide} facing
     * {@code alice}, {@code relayOnBobSide} facing {@code bob}). The relay namespace does not route
     * between the two subnets, so whatever crosses from one side to the other went through the relay.
     */
    public RelayBetween relayBetween(String relayOnAliceSide, String alice, String relayOnBobSide, String bob) {
        Netns relayNs = namespace("relay");
        Netns aliceNs = namespace("alice");
        Netns bobNs = namespace("bob");
        connect(relayNs, "ra", relayOnAliceSide + "/24", aliceNs, "a", alice + "/24");
        connect(relayNs, "rb", relayOnBobSide + "/24", bobNs, "b", bob + "/24");
        return new RelayBetween(
                relayNs,
                aliceNs,
                bobNs,
                interfaceName("ra"),
                interfaceName("rb"),
                interfaceName("a"),
                interfaceName("b"));
    }

    /**
     * What {@link #relayBetween} made: the three namespaces, the relay's veth towards alice
     * ({@code relayIfA}) and towards bob ({@code relayIfB}), and the far ends in their namespaces.
     */
    public record RelayBetween(
            Netns relay, Netns alice, Netns bob, String relayIfA, String relayIfB, String aliceIf, String bobIf) {}

    /** Makes {@code resource} part of the teardown; closed before anything adopted earlier. */
    public synchronized <T extends AutoCloseable> T adopt(T resource) {
        if (closed) {
            closeAndRethrow(resource);
            throw new IllegalStateException("topology " + suffix + " is already closed");
        }
        owned.push(resource);
        return resource;
    }

    private static void closeAndRethrow(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Closes every adopted resource, newest first, even when some fail, then deletes the scratch
     * directory. The first failure is thrown with the others suppressed.
     */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down and the hook is running or about to.
        }
        teardown();
    }

    private synchronized void teardown() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        while (!owned.isEmpty()) {
            AutoCloseable resource = owned.pop();
            try {
                resource.close();
            } catch (Exception e) {
                RuntimeException wrapped = e instanceof RuntimeException r
                        ? r
                        : new IllegalStateException("closing " + resource + " failed", e);
                if (failure == null) {
                    failure = wrapped;
                } else {
                    failure.addSuppressed(wrapped);
                }
            }
        }
        deleteRecursively(workDir);
        if (failure != null) {
            throw failure;
        }
    }

    private void closeQuietly() {
        try {
            teardown();
        } catch (RuntimeException e) {
            System.err.println("topology " + suffix + " teardown on JVM exit failed: " + e);
        }
    }

    /** Fails the test when a namespace or process of this topology outlived {@link #close}. */
    public void assertNothingLeft() {
        org.junit.jupiter.api.Assertions.assertEquals(List.of(), leftoverNamespaces(), "namespaces left behind");
        org.junit.jupiter.api.Assertions.assertEquals(List.of(), leftoverProcesses(), "processes left behind");
    }

    /**
     * Stops {@code relay} (if started) with SIGTERM, closes the topology, and fails the test if
     * anything was left behind or the relay did not exit 0 (SPEC: SIGTERM exits 0).
     */
    public void closeStopping(RelayProcess relay) {
        Integer relayExit = null;
        String relayOutput = "";
        try {
            if (relay != null) {
                relayExit = relay.stop();
                relayOutput = relay.output();
            }
        } finally {
            close();
        }
        assertNothingLeft();
        if (relayExit != null) {
            org.junit.jupiter.api.Assertions.assertEquals(
                    0, relayExit, "wg-relay must exit 0 on SIGTERM; its output:\n" + relayOutput);
        }
    }

    /** Names of this topology's namespaces that `ip netns list` still shows (empty after close). */
    public List<String> leftoverNamespaces() {
        Command.Result list = Command.check(Netns.COMMAND_TIMEOUT, List.of(Prerequisites.which("ip"), "netns", "list"));
        List<String> leftovers = new ArrayList<>();
        for (String line : list.stdout().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            if (name.contains(suffix)) {
                leftovers.add(name);
            }
        }
        return leftovers;
    }

    /** Live processes whose command line mentions this topology's suffix (empty after close). */
    public List<String> leftoverProcesses() {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != self)
                .filter(p -> p.info().commandLine().map(c -> c.contains(suffix)).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                .toList();
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    @Override
    public String toString() {
        return "topology " + suffix;
    }
}
