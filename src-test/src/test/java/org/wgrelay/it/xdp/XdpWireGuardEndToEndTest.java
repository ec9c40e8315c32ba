package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.xdp.XdpRig.ALICE;
import static org.wgrelay.it.xdp.XdpRig.BOB;
import static org.wgrelay.it.xdp.XdpRig.RELAY_A;
import static org.wgrelay.it.xdp.XdpRig.RELAY_B;
import static org.wgrelay.it.xdp.XdpRig.RELAY_PORT;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.wgrelay.it.netns.TestFiles;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.TcpSink;
import org.wgrelay.it.netns.TcpSource;
import org.wgrelay.it.netns.WireGuardPeer;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayControl.Counters;

/**
 * Stock WireGuard (wireguard-go) through the relay with the XDP fast path attached in native
 * mode: handshakes go up to userspace, the tunnel's data rides the kernel. The peers' public keys
 * are stamped, so the last test can roam alice to a new source port and watch the relay try,
 * commit and then fast-path her new endpoint (the PASS flag while the candidate is answered lets
 * userspace see bob's confirming transport data, SPEC rule 9).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdpWireGuardEndToEndTest {

    private static final int PEER_PORT = 51000;
    private static final int ALICE_ROAMED_PORT = 51001;
    private static final Duration HANDSHAKE = Duration.ofSeconds(30);
    private static final int TRANSFER_BYTES = 64 << 20;
    private static final int TRANSFER_TIMEOUT_SECONDS = 120;
    private static final int TCP_PORT = 5001;
    /** A full-size tunnel packet carries at most 1420 bytes of the tunnel's IP traffic. */
    private static final long MIN_DATA_PACKETS = TRANSFER_BYTES / 1420;

    private static XdpRig rig;
    private static RelayProcess relay;
    private static RelayControl control;
    private static WireGuardPeer alice;
    private static WireGuardPeer bob;

    @BeforeAll
    static void startRelayAndTwoWireGuardPeers() {
        XdpRig.enforcePrerequisites(true);
        rig = XdpRig.create();
        String aliceKey = WireGuardPeer.generatePrivateKey();
        String bobKey = WireGuardPeer.generatePrivateKey();
        Path roster = rig.roster(
                "peer alice " + ALICE + ":" + PEER_PORT + " " + WireGuardPeer.publicKeyOf(aliceKey),
                "peer bob " + BOB + ":" + PEER_PORT + " " + WireGuardPeer.publicKeyOf(bobKey),
                "link alice bob");
        relay = rig.startRelay(roster, "--xdp-interface", rig.relayIfA + "," + rig.relayIfB, "--xdp-mode", "drv");
        control = RelayControl.of(relay, rig.relayNs);
        alice = rig.topology.adopt(WireGuardPeer.start(rig.aliceNs, rig.topology.interfaceName("wa"), PEER_PORT,
                "10.232.0.1/24", rig.topology.workDir(), aliceKey));
        bob = rig.topology.adopt(WireGuardPeer.start(rig.bobNs, rig.topology.interfaceName("wb"), PEER_PORT,
                "10.232.0.2/24", rig.topology.workDir(), bobKey));
        alice.addPeer(bob.publicKey(), RELAY_A + ":" + RELAY_PORT, bob.tunnelAddress() + "/32");
        bob.addPeer(alice.publicKey(), RELAY_B + ":" + RELAY_PORT, alice.tunnelAddress() + "/32");
    }

    @AfterAll
    static void stopEverythingAndLeaveNothingBehind() {
        if (rig == null) {
            return;
        }
        try {
            if (relay != null) {
                assertEquals(0, relay.stop(), "wg-relay must exit 0 on SIGTERM; output:\n" + relay.output());
                rig.awaitNoXdpOnRelayVeths(Duration.ofSeconds(10), "after the relay stopped");
                assertEquals(List.of(), rig.processesInRelayNs(), "processes left in the relay namespace");
            }
        } finally {
            rig.close();
        }
        rig.topology.assertNothingLeft();
    }

    @Test
    @Order(1)
    void pingsCrossTheTunnelOnTheFastPath() {
        awaitTunnel("the first ping through the tunnel");
        assertPingsRideTheFastPath();
        assertEquals(RELAY_A + ":" + RELAY_PORT, alice.endpointOf(bob.publicKey()).orElse(null), diagnostics());
        assertEquals(RELAY_B + ":" + RELAY_PORT, bob.endpointOf(alice.publicKey()).orElse(null), diagnostics());
    }

    @Test
    @Order(2)
    void sixtyFourMebibytesArriveIntactAndNearlyAllOfItWentThroughXdp() throws Exception {
        awaitTunnel("a ping before the transfer");
        Path sent = rig.topology.workDir().resolve("sent.bin");
        Path received = rig.topology.workDir().resolve("received.bin");
        long seed = new SplittableRandom().nextLong();
        TestFiles.writeRandom(sent, TRANSFER_BYTES, seed);
        Counters before = control.settled();
        try (ChildProcess sink = bob.namespace().spawn("tcp-sink",
                TcpSink.command(TCP_PORT, received, TRANSFER_TIMEOUT_SECONDS), Map.of())) {
            sink.awaitLine(line -> line.startsWith("listening"), Duration.ofSeconds(30));
            long start = System.nanoTime();
            try (ChildProcess source = alice.namespace().spawn("tcp-source",
                    TcpSource.command(bob.tunnelAddress(), TCP_PORT, sent, TRANSFER_TIMEOUT_SECONDS), Map.of())) {
                Duration bound = Duration.ofSeconds(TRANSFER_TIMEOUT_SECONDS + 30);
                assertExitedZero(source, source.awaitExit(bound));
                assertExitedZero(sink, sink.awaitExit(bound));
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("XDP: %d MiB through the relay in %.2f s (%.1f Mbit/s)%n",
                    TRANSFER_BYTES >> 20, seconds, TRANSFER_BYTES * 8 / seconds / 1e6);
        }
        assertEquals(TRANSFER_BYTES, Files.size(received), "bytes received (seed " + seed + ")");
        assertEquals(TestFiles.sha256(sent), TestFiles.sha256(received), "SHA-256 of sent and received data (seed " + seed + ")");
        Files.delete(sent);
        Files.delete(received);

        Counters after = control.awaitShow(Duration.ofSeconds(20), "the kernel's counters of the transfer",
                c -> c.since(before, "xdp_fwd_packets") >= MIN_DATA_PACKETS
                        && c.get("xdp_rx_packets") == c.get("rx_packets"));
        long fwd = after.since(before, "fwd_packets");
        long xdpFwd = after.since(before, "xdp_fwd_packets");
        System.out.printf("XDP: forwarded %d datagrams, %d of them in the kernel%n", fwd, xdpFwd);
        assertTrue(fwd - xdpFwd <= fwd / 100, "at most 1% of the transfer may go through userspace: "
                + before.json() + " -> " + after.json());
    }

    @Test
    @Order(3)
    void aliceRoamingToANewPortIsCommittedAndThenFastPathed() {
        awaitTunnel("a ping before alice roams");
        String newEndpoint = ALICE + ":" + ALICE_ROAMED_PORT;
        String wg = Prerequisites.which("wg");
        alice.namespace().exec(Duration.ofSeconds(20), wg, "set", alice.interfaceName(),
                "listen-port", Integer.toString(ALICE_ROAMED_PORT));
        // A fresh session at once: left alone, alice would re-initiate only once her data went
        // unanswered for KEEPALIVE + REKEY_TIMEOUT (15 s).
        alice.namespace().exec(Duration.ofSeconds(20), wg, "set", alice.interfaceName(),
                "peer", bob.publicKey(), "remove");
        alice.addPeer(bob.publicKey(), RELAY_A + ":" + RELAY_PORT, bob.tunnelAddress() + "/32");

        awaitTunnel("a ping from alice's new port");
        Await.until(Duration.ofSeconds(15), "wg peer list to show alice at " + newEndpoint,
                () -> newEndpoint.equals(control.peer("alice").path("endpoint").asText()),
                XdpWireGuardEndToEndTest::diagnostics);
        JsonNode row = control.peer("alice");
        assertEquals(1, row.path("endpoint_relearn").asLong(), row + "\n" + diagnostics());
        assertTrue(row.path("candidate_endpoint").isNull(), row.toString());
        String log = relay.output();
        assertTrue(log.contains("candidate peer=alice source=" + newEndpoint), "no candidate line\n" + log);
        assertTrue(log.contains("relearn peer=alice endpoint=" + newEndpoint), "no relearn line\n" + log);

        assertPingsRideTheFastPath();
    }

    /** 20 pings (40 transport messages through the relay); all but a handshake's worth in the kernel. */
    private static void assertPingsRideTheFastPath() {
        Counters before = control.settled();
        Command.Result ping = alice.namespace().tryExec(Duration.ofSeconds(30), Prerequisites.which("ping"),
                "-n", "-c", "20", "-i", "0.05", "-W", "2", bob.tunnelAddress());
        assertTrue(ping.succeeded() && ping.stdout().contains(" 20 received"),
                "20 of 20 pings must cross the tunnel: " + ping.describe() + "\n" + diagnostics());
        Counters after = control.awaitShow(Duration.ofSeconds(20), "40 transport messages in the kernel's counters",
                c -> c.since(before, "xdp_fwd_packets") >= 40
                        && c.get("xdp_rx_packets") == c.get("rx_packets"));
        long userFwd = after.userFwd() - before.userFwd();
        assertTrue(userFwd <= 2, "userspace forwarded " + userFwd + " of the pings' datagrams: "
                + before.json() + " -> " + after.json());
    }

    /** The first ping after a (re)start triggers the handshake; it and a few after it may be lost. */
    private static void awaitTunnel(String what) {
        String ping = Prerequisites.which("ping");
        Await.until(HANDSHAKE, what,
                () -> alice.namespace().tryExec(Duration.ofSeconds(10),
                        ping, "-n", "-c", "1", "-W", "1", bob.tunnelAddress()).succeeded(),
                XdpWireGuardEndToEndTest::diagnostics);
    }

    private static void assertExitedZero(ChildProcess child, OptionalInt exit) {
        assertTrue(exit.isPresent(), child.label() + " still running at the deadline; output:\n"
                + child.output() + diagnostics());
        assertEquals(0, exit.getAsInt(), child.label() + " failed; output:\n" + child.output() + diagnostics());
    }

    private static String diagnostics() {
        return "--- relay " + (relay.isAlive() ? "(running)" : "(exited)") + " output:\n" + relay.output()
                + "--- wg show: " + control.show().json()
                + "\n--- alice: " + alice.describe()
                + "--- bob: " + bob.describe();
    }
}
