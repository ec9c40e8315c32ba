package org.wgrelay.it.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl.Counters;

/**
 * Enrollment by key with the XDP fast path attached (SPEC E with the XDP paragraph): while a peer
 * has no endpoint the kernel has no entry for its link and passes everything up, so userspace
 * sees the handshake and the transport data that commit; once both endpoints are learned the
 * loader installs the link and the tunnel's data rides the kernel.
 */
class XdpEnrollmentEndToEndTest {

    private static final int KEEPALIVE = 25;

    @AutoClose
    private EnrollmentNet net;

    @Test
    void twoPeersRegisteredByKeyOnlyEnrollAndThenRideTheFastPath() {
        net = EnrollmentNet.start(false, true);
        assertTrue(net.relay.startupLine().contains("xdp=drv"), net.relay.startupLine());
        net.enrollBothByKeyOnly(KEEPALIVE);
        assertEquals(1, net.row("alice").path("endpoint_relearn").asLong(), net.diagnostics());
        assertEquals(1, net.row("bob").path("endpoint_relearn").asLong(), net.diagnostics());

        // 20 pings are 40 transport messages through the relay: all but a handshake's worth in the kernel.
        Counters before = net.control.settled();
        Command.Result ping = net.aliceNs.tryExec(
                Duration.ofSeconds(30),
                Prerequisites.which("ping"),
                "-n",
                "-c",
                "20",
                "-i",
                "0.05",
                "-W",
                "2",
                EnrollmentNet.BOB_TUNNEL);
        assertTrue(
                ping.succeeded() && ping.stdout().contains(" 20 received"),
                "20 of 20 pings must cross the tunnel: " + ping.describe() + "\n" + net.diagnostics());
        Counters after = net.control.awaitShow(
                Duration.ofSeconds(20),
                "40 transport messages in the kernel's counters",
                c -> c.since(before, "xdp_fwd_packets") >= 40 && c.get("xdp_rx_packets") == c.get("rx_packets"));
        long userFwd = after.userFwd() - before.userFwd();
        System.out.printf(
                "XDP after enrollment: %d of %d forwarded in the kernel%n",
                after.since(before, "xdp_fwd_packets"), after.since(before, "fwd_packets"));
        assertTrue(
                userFwd <= 2,
                "userspace forwarded " + userFwd + " of the pings' datagrams: " + before.json() + " -> " + after.json()
                        + "\n" + net.diagnostics());
    }
}
