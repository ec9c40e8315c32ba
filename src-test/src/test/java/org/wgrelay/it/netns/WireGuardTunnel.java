package org.wgrelay.it.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * A WireGuard tunnel between two stock peers, alice and bob (wireguard-go, each in a namespace
 * of its own), that reach each other only through a relay: each has the other as its one peer,
 * with the relay's address on its own side as the endpoint. Also what the end-to-end tests send
 * through it: pings from alice to bob, and a file over TCP whose integrity they check.
 *
 * <p>Both peers listen on one fixed port, so a roster can name their endpoints before they run.
 * They are adopted by the topology, which stops them at its close.
 */
public final class WireGuardTunnel {

    /** Where bob's sink listens, on his tunnel address; nothing else listens in his namespace. */
    private static final int TCP_PORT = 5001;

    private final WireGuardPeer alice;
    private final WireGuardPeer bob;
    private final Path workDir;

    private WireGuardTunnel(WireGuardPeer alice, WireGuardPeer bob, Path workDir) {
        this.alice = alice;
        this.bob = bob;
        this.workDir = workDir;
    }

    /**
     * One end of the tunnel: its namespace, its tunnel address (e.g. {@code 10.232.0.1/24}), the
     * relay's {@code ip:port} it sends to, and its base64 private key.
     */
    public record End(Netns ns, String tunnelCidr, String relayEndpoint, String privateKey) {
        /** An end with a fresh key, for a test that never needs the key before the peer runs. */
        public End(Netns ns, String tunnelCidr, String relayEndpoint) {
            this(ns, tunnelCidr, relayEndpoint, WireGuardPeer.generatePrivateKey());
        }
    }

    /**
     * Starts wireguard-go for alice (interface tag {@code wa}) and bob ({@code wb}), both on
     * {@code listenPort}, and makes each the other's peer behind its end's relay endpoint.
     */
    public static WireGuardTunnel start(Topology topology, int listenPort, End alice, End bob) {
        WireGuardPeer a = topology.adopt(WireGuardPeer.start(
                alice.ns(),
                topology.interfaceName("wa"),
                listenPort,
                alice.tunnelCidr(),
                topology.workDir(),
                alice.privateKey()));
        WireGuardPeer b = topology.adopt(WireGuardPeer.start(
                bob.ns(),
                topology.interfaceName("wb"),
                listenPort,
                bob.tunnelCidr(),
                topology.workDir(),
                bob.privateKey()));
        a.addPeer(b.publicKey(), alice.relayEndpoint(), b.tunnelAddress() + "/32");
        b.addPeer(a.publicKey(), bob.relayEndpoint(), a.tunnelAddress() + "/32");
        return new WireGuardTunnel(a, b, topology.workDir());
    }

    /**
     * Two peers that already run, seen as a tunnel from {@code from} (alice's part: she pings and
     * sends) to {@code to} (bob's part): for a topology where a peer has several partners, such as
     * a hub with its spokes, each pair is one such view.
     */
    public static WireGuardTunnel between(WireGuardPeer from, WireGuardPeer to, Path workDir) {
        return new WireGuardTunnel(from, to, workDir);
    }

    public WireGuardPeer alice() {
        return alice;
    }

    public WireGuardPeer bob() {
        return bob;
    }

    /**
     * Pings bob from alice, one ping at a time, until one is answered. The first ping after a
     * (re)start or a roam triggers a handshake; it and a few after it may be lost.
     */
    public void awaitPing(Duration timeout, String what, Supplier<String> diagnostics) {
        String ping = Prerequisites.which("ping");
        Await.until(
                timeout,
                what,
                () -> alice.namespace()
                        .tryExec(Duration.ofSeconds(10), ping, "-n", "-c", "1", "-W", "1", bob.tunnelAddress())
                        .succeeded(),
                diagnostics);
    }

    /**
     * {@code count} pings from alice to bob, {@code interval} seconds apart, each given 2 s for its
     * answer; the result as it is, for the caller to judge.
     */
    public Command.Result ping(int count, String interval) {
        return alice.namespace()
                .tryExec(
                        Duration.ofSeconds(30),
                        Prerequisites.which("ping"),
                        "-n",
                        "-c",
                        Integer.toString(count),
                        "-i",
                        interval,
                        "-W",
                        "2",
                        bob.tunnelAddress());
    }

    /**
     * Sends {@code bytes} of seeded random data from alice to bob over TCP through the tunnel and
     * fails the test unless sender and receiver both exit 0 (each bounds its own stalls by
     * {@code timeoutSeconds}). What arrived is the caller's to check: both files stay in the
     * scratch directory until {@link Transfer#delete}.
     */
    public Transfer transfer(int bytes, int timeoutSeconds, Supplier<String> diagnostics) throws IOException {
        return transfer(bytes, timeoutSeconds, 0, diagnostics);
    }

    /** As above, with the sender held to {@code bytesPerSecond} (0: unpaced), so the transfer spans a known time. */
    public Transfer transfer(int bytes, int timeoutSeconds, long bytesPerSecond, Supplier<String> diagnostics)
            throws IOException {
        Path sent = workDir.resolve("sent.bin");
        Path received = workDir.resolve("received.bin");
        long seed = new SplittableRandom().nextLong();
        TestFiles.writeRandom(sent, bytes, seed);
        double seconds;
        try (ChildProcess sink =
                bob.namespace().spawn("tcp-sink", TcpSink.command(TCP_PORT, received, timeoutSeconds), Map.of())) {
            sink.awaitLine(line -> line.startsWith("listening"), Duration.ofSeconds(30));
            long start = System.nanoTime();
            try (ChildProcess source = alice.namespace()
                    .spawn(
                            "tcp-source",
                            TcpSource.command(bob.tunnelAddress(), TCP_PORT, sent, timeoutSeconds, bytesPerSecond),
                            Map.of())) {
                Duration bound = Duration.ofSeconds(timeoutSeconds + 30);
                assertExitedZero(source, source.awaitExit(bound), diagnostics);
                assertExitedZero(sink, sink.awaitExit(bound), diagnostics);
            }
            seconds = (System.nanoTime() - start) / 1e9;
        }
        return new Transfer(sent, received, bytes, seed, seconds);
    }

    /**
     * A finished {@link #transfer}: the file alice sent, the one bob wrote, how many bytes were
     * sent, the seed that makes them again, and the seconds from the sender's start to both ends' exit.
     */
    public record Transfer(Path sent, Path received, int bytes, long seed, double seconds) {

        /** Fails unless bob's file has every byte alice sent, in order; the messages name the seed. */
        public void assertArrivedIntact() throws IOException {
            assertEquals(bytes, Files.size(received), "bytes received (seed " + seed + ")");
            assertEquals(
                    TestFiles.sha256(sent),
                    TestFiles.sha256(received),
                    "SHA-256 of sent and received data (seed " + seed + ")");
        }

        /** {@code 64 MiB through the relay in 1.23 s (436.2 Mbit/s)}, for the test's log. */
        public String throughput() {
            return String.format(
                    "%d MiB through the relay in %.2f s (%.1f Mbit/s)",
                    bytes >> 20, seconds, bytes * 8 / seconds / 1e6);
        }

        /** Removes both files now rather than at the topology's close: they are large. */
        public void delete() throws IOException {
            Files.delete(sent);
            Files.delete(received);
        }
    }

    /** Both peers' {@code wg show} and wireguard-go output, for failure messages. */
    public String describe() {
        return "--- alice: " + alice.describe() + "--- bob: " + bob.describe();
    }

    private static void assertExitedZero(ChildProcess child, OptionalInt exit, Supplier<String> diagnostics) {
        assertTrue(
                exit.isPresent(),
                () -> child.label() + " still running at the deadline; output:\n" + child.output() + diagnostics.get());
        assertEquals(
                0, exit.getAsInt(), () -> child.label() + " failed; output:\n" + child.output() + diagnostics.get());
    }
}
