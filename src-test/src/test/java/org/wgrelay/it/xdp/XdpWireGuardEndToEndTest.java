package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.xdp.XdpRig.ALICE;
import static org.wgrelay.it.xdp.XdpRig.BOB;
import static org.wgrelay.it.xdp.XdpRig.RELAY_A;
import static org.wgrelay.it.xdp.XdpRig.RELAY_B;
import static org.wgrelay.it.xdp.XdpRig.RELAY_PORT;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayControl.Counters;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.WireGuardPeer;
import org.wgrelay.it.netns.WireGuardTunnel;

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
    /** A full-size tunnel packet carries at most 1420 bytes of the tunnel's IP traffic. */
    private static final long MIN_DATA_PACKETS = TRANSFER_BYTES / 1420;

    private static XdpRig rig;
    private static RelayProcess relay;
    private static RelayControl control;
    private static WireGuardTunnel tunnel;
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
        relay = rig.startRelayOnBothVeths(roster, "drv");
        control = RelayControl.of(relay, rig.relayNs);
        tunnel = WireGuardTunnel.start(
                rig.topology,
                PEER_PORT,
                new WireGuardTunnel.End(rig.aliceNs, "10.232.0.1/24", RELAY_A + ":" + RELAY_PORT, aliceKey),
                new WireGuardTunnel.End(rig.bobNs, "10.232.0.2/24", RELAY_B + ":" + RELAY_PORT, bobKey));
        alice = tunnel.alice();
        bob = tunnel.bob();
    }

    @AfterAll
    static void stopEverythingAndLeaveNothingBehind() {
        if (rig == null) {
            return;
        }
        rig.closeStopping(relay);
    }

    @Test
    @Order(1)
    void pingsCrossTheTunnelOnTheFastPath() {
        awaitTunnel("the first ping through the tunnel");
        assertPingsRideTheFastPath();
        assertEquals(
                RELAY_A + ":" + RELAY_PORT, alice.endpointOf(bob.publicKey()).orElse(null), diagnostics());
        assertEquals(
                RELAY_B + ":" + RELAY_PORT, bob.endpointOf(alice.publicKey()).orElse(null), diagnostics());
    }

    @Test
    @Order(2)
    void sixtyFourMebibytesArriveIntactAndNearlyAllOfItWentThroughXdp() throws Exception {
        awaitTunnel("a ping before the transfer");
        Counters before = control.settled();
        WireGuardTunnel.Transfer transfer =
                tunnel.transfer(TRANSFER_BYTES, TRANSFER_TIMEOUT_SECONDS, XdpWireGuardEndToEndTest::diagnostics);
        System.out.println("XDP: " + transfer.throughput());
        transfer.assertArrivedIntact();
        transfer.delete();

        Counters after = control.awaitShow(
                Duration.ofSeconds(20),
                "the kernel's counters of the transfer",
                c -> c.since(before, "xdp_fwd_packets") >= MIN_DATA_PACKETS
                        && c.get("xdp_rx_packets") == c.get("rx_packets"));
        long fwd = after.since(before, "fwd_packets");
        long xdpFwd = after.since(before, "xdp_fwd_packets");
        System.out.printf("XDP: forwarded %d datagrams, %d of them in the kernel%n", fwd, xdpFwd);
        assertTrue(
                fwd - xdpFwd <= fwd / 100,
                "at most 1% of the transfer may go through userspace: " + before.json() + " -> " + after.json());
    }

    @Test
    @Order(3)
    void aliceRoamingToANewPortIsCommittedAndThenFastPathed() {
        awaitTunnel("a ping before alice roams");
        String newEndpoint = ALICE + ":" + ALICE_ROAMED_PORT;
        String wg = Prerequisites.which("wg");
        alice.namespace()
                .exec(
                        Duration.ofSeconds(20),
                        wg,
                        "set",
                        alice.interfaceName(),
                        "listen-port",
                        Integer.toString(ALICE_ROAMED_PORT));
        // A fresh session at once: left alone, alice would re-initiate only once her data went
        // unanswered for KEEPALIVE + REKEY_TIMEOUT (15 s).
        alice.namespace()
                .exec(Duration.ofSeconds(20), wg, "set", alice.interfaceName(), "peer", bob.publicKey(), "remove");
        alice.addPeer(bob.publicKey(), RELAY_A + ":" + RELAY_PORT, bob.tunnelAddress() + "/32");

        awaitTunnel("a ping from alice's new port");
        Await.until(
                Duration.ofSeconds(15),
                "wg peer list to show alice at " + newEndpoint,
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
        Command.Result ping = tunnel.ping(20, "0.05");
        assertTrue(
                ping.succeeded() && ping.stdout().contains(" 20 received"),
                "20 of 20 pings must cross the tunnel: " + ping.describe() + "\n" + diagnostics());
        Counters after = control.awaitShow(
                Duration.ofSeconds(20),
                "40 transport messages in the kernel's counters",
                c -> c.since(before, "xdp_fwd_packets") >= 40 && c.get("xdp_rx_packets") == c.get("rx_packets"));
        long userFwd = after.userFwd() - before.userFwd();
        assertTrue(
                userFwd <= 2,
                "userspace forwarded " + userFwd + " of the pings' datagrams: " + before.json() + " -> "
                        + after.json());
    }

    /** The first ping after a (re)start triggers the handshake; it and a few after it may be lost. */
    private static void awaitTunnel(String what) {
        tunnel.awaitPing(HANDSHAKE, what, XdpWireGuardEndToEndTest::diagnostics);
    }

    private static String diagnostics() {
        return "--- relay " + (relay.isAlive() ? "(running)" : "(exited)") + " output:\n" + relay.output()
                + "--- wg show: " + control.show().json()
                + "\n" + tunnel.describe();
    }
}
