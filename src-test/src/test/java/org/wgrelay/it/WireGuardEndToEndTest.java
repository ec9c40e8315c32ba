package org.wgrelay.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.TestFiles;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.TcpSink;
import org.wgrelay.it.netns.TcpSource;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardPeer;

/**
 * End to end: two stock WireGuard peers (wireguard-go) that cannot reach each other, each with
 * {@code Endpoint = relay}, talk through a wg-relay daemon running in its own namespace.
 *
 * <pre>
 *   [alice ns]                       [relay ns]                        [bob ns]
 *   wg 10.232.0.1/24                 wg-relay 0.0.0.0:51820            wg 10.232.0.2/24
 *   veth 10.231.1.2 ---------------- 10.231.1.1 | 10.231.2.1 --------- 10.231.2.2 veth
 *   listen-port 51000                (no forwarding between subnets)   listen-port 51000
 * </pre>
 *
 * <p>The relay namespace does not route between its two subnets, so every tunnel packet that
 * arrives has crossed the relay's UDP port. Both peers use a fixed listen port, which makes their
 * source endpoints known in advance and lets the test write the roster before the start.
 */
class WireGuardEndToEndTest {

    private static final int RELAY_PORT = 51820;
    private static final int PEER_PORT = 51000;
    private static final String RELAY_ON_ALICE_SIDE = "10.231.1.1";
    private static final String RELAY_ON_BOB_SIDE = "10.231.2.1";
    private static final String ALICE_UNDERLAY = "10.231.1.2";
    private static final String BOB_UNDERLAY = "10.231.2.2";
    private static final Duration FIRST_HANDSHAKE = Duration.ofSeconds(30);
    private static final int TRANSFER_BYTES = 64 << 20;
    private static final int TRANSFER_TIMEOUT_SECONDS = 120;
    private static final int TCP_PORT = 5001;

    private static Topology topology;
    private static RelayProcess relay;
    private static WireGuardPeer alice;
    private static WireGuardPeer bob;

    @BeforeAll
    static void startRelayAndTwoWireGuardPeers() throws IOException {
        Prerequisites.check()
                .root().tun().tools("ip", "wg", "wireguard-go", "ping").namespaces()
                .enforce();
        topology = Topology.create();
        Netns relayNs = topology.namespace("relay");
        Netns aliceNs = topology.namespace("alice");
        Netns bobNs = topology.namespace("bob");
        topology.connect(relayNs, "ra", RELAY_ON_ALICE_SIDE + "/24", aliceNs, "a", ALICE_UNDERLAY + "/24");
        topology.connect(relayNs, "rb", RELAY_ON_BOB_SIDE + "/24", bobNs, "b", BOB_UNDERLAY + "/24");

        Path roster = topology.workDir().resolve("wg-roster");
        Files.writeString(roster, String.join("\n",
                "# written by WireGuardEndToEndTest",
                "peer alice " + ALICE_UNDERLAY + ":" + PEER_PORT,
                "peer bob " + BOB_UNDERLAY + ":" + PEER_PORT,
                "link alice bob",
                ""));
        relay = topology.adopt(
                RelayProcess.start(relayNs, "0.0.0.0", RELAY_PORT, roster, 2, Duration.ofSeconds(60)));
        System.out.println(relay.startupLine());

        alice = topology.adopt(WireGuardPeer.start(aliceNs, topology.interfaceName("wa"), PEER_PORT,
                "10.232.0.1/24", topology.workDir()));
        bob = topology.adopt(WireGuardPeer.start(bobNs, topology.interfaceName("wb"), PEER_PORT,
                "10.232.0.2/24", topology.workDir()));
        alice.addPeer(bob.publicKey(), RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT, bob.tunnelAddress() + "/32");
        bob.addPeer(alice.publicKey(), RELAY_ON_BOB_SIDE + ":" + RELAY_PORT, alice.tunnelAddress() + "/32");
    }

    @AfterAll
    static void stopEverythingAndLeaveNothingBehind() {
        if (topology == null) {
            return; // skipped before anything was created
        }
        topology.closeStopping(relay);
    }

    @Test
    void pingCrossesTheTunnelThroughTheRelay() {
        awaitFirstHandshake();

        Command.Result ping = alice.namespace().tryExec(Duration.ofSeconds(30),
                Prerequisites.which("ping"), "-n", "-c", "5", "-i", "0.2", "-W", "2", bob.tunnelAddress());
        assertTrue(ping.succeeded() && ping.stdout().contains(" 5 received"),
                "5 of 5 pings must cross the tunnel: " + ping.describe() + "\n" + diagnostics());

        // WireGuard roams a peer's endpoint to the source of its last authenticated packet: the relay
        // must send from its own address and port, else the peers would learn some other endpoint.
        assertEquals(RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT, alice.endpointOf(bob.publicKey()).orElse(null),
                "alice's endpoint for bob\n" + diagnostics());
        assertEquals(RELAY_ON_BOB_SIDE + ":" + RELAY_PORT, bob.endpointOf(alice.publicKey()).orElse(null),
                "bob's endpoint for alice\n" + diagnostics());
    }

    @Test
    void sixtyFourMebibytesOfRandomDataArriveWithTheSameSha256() throws Exception {
        awaitFirstHandshake();
        Path sent = topology.workDir().resolve("sent.bin");
        Path received = topology.workDir().resolve("received.bin");
        long seed = new SplittableRandom().nextLong();
        TestFiles.writeRandom(sent, TRANSFER_BYTES, seed);
        try (ChildProcess sink = bob.namespace().spawn("tcp-sink",
                TcpSink.command(TCP_PORT, received, TRANSFER_TIMEOUT_SECONDS), Map.of())) {
            sink.awaitLine(line -> line.startsWith("listening"), Duration.ofSeconds(30));
            long start = System.nanoTime();
            try (ChildProcess source = alice.namespace().spawn("tcp-source",
                    TcpSource.command(bob.tunnelAddress(), TCP_PORT, sent, TRANSFER_TIMEOUT_SECONDS),
                    Map.of())) {
                Duration bound = Duration.ofSeconds(TRANSFER_TIMEOUT_SECONDS + 30);
                assertExitedZero(source, source.awaitExit(bound));
                assertExitedZero(sink, sink.awaitExit(bound));
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("transferred %d MiB through the relay in %.2f s (%.1f Mbit/s)%n",
                    TRANSFER_BYTES >> 20, seconds, TRANSFER_BYTES * 8 / seconds / 1e6);
        }
        assertEquals(TRANSFER_BYTES, Files.size(received), "bytes received (random seed " + seed + ")");
        assertEquals(TestFiles.sha256(sent), TestFiles.sha256(received), "SHA-256 of sent and received data (seed " + seed + ")");
        Files.delete(sent);
        Files.delete(received);
    }

    /** The first ping triggers the handshake; it and a few after it may be lost. */
    private static void awaitFirstHandshake() {
        String ping = Prerequisites.which("ping");
        Await.until(FIRST_HANDSHAKE, "a ping from alice to bob through the tunnel",
                () -> alice.namespace().tryExec(Duration.ofSeconds(10),
                        ping, "-n", "-c", "1", "-W", "1", bob.tunnelAddress()).succeeded(),
                WireGuardEndToEndTest::diagnostics);
    }

    private static void assertExitedZero(ChildProcess child, OptionalInt exit) {
        assertTrue(exit.isPresent(), child.label() + " still running at the deadline; output:\n"
                + child.output() + diagnostics());
        assertEquals(0, exit.getAsInt(),
                child.label() + " failed; output:\n" + child.output() + diagnostics());
    }

    private static String diagnostics() {
        return "--- relay " + (relay.isAlive() ? "(running)" : "(exited)") + " output:\n" + relay.output()
                + "--- alice: " + alice.describe()
                + "--- bob: " + bob.describe();
    }
}
