package org.wgrelay.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardPeer;
import org.wgrelay.it.netns.WireGuardTunnel;

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

    private static Topology topology;
    private static RelayProcess relay;
    private static WireGuardTunnel tunnel;
    private static WireGuardPeer alice;
    private static WireGuardPeer bob;

    @BeforeAll
    static void startRelayAndTwoWireGuardPeers() throws IOException {
        Prerequisites.check()
                .root()
                .tun()
                .tools("ip", "wg", "wireguard-go", "ping")
                .namespaces()
                .enforce();
        topology = Topology.create();
        Topology.RelayBetween ns =
                topology.relayBetween(RELAY_ON_ALICE_SIDE, ALICE_UNDERLAY, RELAY_ON_BOB_SIDE, BOB_UNDERLAY);

        Path roster = topology.workDir().resolve("wg-roster");
        Files.writeString(
                roster,
                String.join(
                        "\n",
                        "# written by WireGuardEndToEndTest",
                        "peer alice " + ALICE_UNDERLAY + ":" + PEER_PORT,
                        "peer bob " + BOB_UNDERLAY + ":" + PEER_PORT,
                        "link alice bob",
                        ""));
        relay = topology.adopt(
                RelayProcess.start(ns.relay(), "0.0.0.0", RELAY_PORT, roster, 2, Duration.ofSeconds(60)));
        System.out.println(relay.startupLine());

        tunnel = WireGuardTunnel.start(
                topology,
                PEER_PORT,
                new WireGuardTunnel.End(ns.alice(), "10.232.0.1/24", RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT),
                new WireGuardTunnel.End(ns.bob(), "10.232.0.2/24", RELAY_ON_BOB_SIDE + ":" + RELAY_PORT));
        alice = tunnel.alice();
        bob = tunnel.bob();
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

        Command.Result ping = tunnel.ping(5, "0.2");
        assertTrue(
                ping.succeeded() && ping.stdout().contains(" 5 received"),
                "5 of 5 pings must cross the tunnel: " + ping.describe() + "\n" + diagnostics());

        // WireGuard roams a peer's endpoint to the source of its last authenticated packet: the relay
        // must send from its own address and port, else the peers would learn some other endpoint.
        assertEquals(
                RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT,
                alice.endpointOf(bob.publicKey()).orElse(null),
                "alice's endpoint for bob\n" + diagnostics());
        assertEquals(
                RELAY_ON_BOB_SIDE + ":" + RELAY_PORT,
                bob.endpointOf(alice.publicKey()).orElse(null),
                "bob's endpoint for alice\n" + diagnostics());
    }

    @Test
    void sixtyFourMebibytesOfRandomDataArriveWithTheSameSha256() throws Exception {
        awaitFirstHandshake();
        WireGuardTunnel.Transfer transfer =
                tunnel.transfer(TRANSFER_BYTES, TRANSFER_TIMEOUT_SECONDS, WireGuardEndToEndTest::diagnostics);
        System.out.println("transferred " + transfer.throughput());
        transfer.assertArrivedIntact();
        transfer.delete();
    }

    /** The first ping triggers the handshake; it and a few after it may be lost. */
    private static void awaitFirstHandshake() {
        tunnel.awaitPing(
                FIRST_HANDSHAKE, "a ping from alice to bob through the tunnel", WireGuardEndToEndTest::diagnostics);
    }

    private static String diagnostics() {
        return "--- relay " + (relay.isAlive() ? "(running)" : "(exited)") + " output:\n" + relay.output()
                + tunnel.describe();
    }
}
