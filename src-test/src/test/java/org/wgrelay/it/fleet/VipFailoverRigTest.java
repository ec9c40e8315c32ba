package org.wgrelay.it.fleet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Prerequisites;

/**
 * The failover rig without a relay: keepalived moves the virtual IP between two hosts of one LAN
 * when the service on the master dies, with a {@link UdpEcho} in place of the relay on each host
 * (bound to the virtual IP, {@code ip_nonlocal_bind} on both). A client probes the virtual IP every
 * 10 ms; the answers switch from the master's echo to the backup's, and the gap between them is
 * the failover time of keepalived with this configuration, whatever the service behind it: once
 * for the service dying on a live host (the check fails, the master sends priority 0), once for
 * the whole host dying (keepalived too: the backup waits out the master-down interval).
 */
class VipFailoverRigTest {

    private static final Pattern GAP = Pattern.compile("gap_ms=(\\d+)");
    private static final long GOAL_MS = 3000;

    @Test
    void theVirtualIpMovesToTheBackupWithinThreeSecondsWhenTheMastersServiceDies() {
        long gapMs = failover(false);
        System.out.printf("VRRP failover (service killed on the master): answers resumed after %d ms%n", gapMs);
    }

    /**
     * The whole master host dies: its keepalived goes with the service and sends no priority-0
     * advertisement, so the backup waits out the master-down interval (3 x 0.5 s + skew).
     */
    @Test
    void theVirtualIpMovesToTheBackupWithinThreeSecondsWhenTheMasterHostDies() {
        long gapMs = failover(true);
        System.out.printf("VRRP failover (master host dead, keepalived too): answers resumed after %d ms%n", gapMs);
    }

    private static long failover(boolean hostDies) {
        Prerequisites.check().tools("keepalived", "ss").enforce();
        FleetNet net = FleetNet.create(2, false);
        long gapMs;
        try {
            ChildProcess echo1 = net.startEcho(net.host(0), FleetNet.VIP, FleetNet.RELAY_PORT, "relay1");
            net.startEcho(net.host(1), FleetNet.VIP, FleetNet.RELAY_PORT, "relay2");
            // The service check keepalived runs every second: is the echo's socket still bound?
            String check = Prerequisites.which("ss") + " -Hlun src " + FleetNet.VIP + ":" + FleetNet.RELAY_PORT
                    + " | grep -q .";
            Keepalived master = net.startKeepalived(0, 150, check);
            master.awaitState(Keepalived.MASTER);
            Keepalived backup = net.startKeepalived(1, 100, check);
            backup.awaitState(Keepalived.BACKUP);
            assertTrue(master.holdsVip(), "the master holds the VIP\n" + master.output());

            ChildProcess probe = net.startProbe(net.aliceNs, FleetNet.VIP, FleetNet.RELAY_PORT, 10, 15_000);
            probe.awaitLine(line -> line.startsWith("answer from=relay1"), Duration.ofSeconds(30));

            if (hostDies) {
                master.kill();
            }
            echo1.kill();
            String moved = probe.awaitLine(line -> line.startsWith("answer from=relay2"), Duration.ofSeconds(15));
            Matcher m = GAP.matcher(moved);
            assertTrue(m.find(), moved);
            gapMs = Long.parseLong(m.group(1));

            backup.awaitState(Keepalived.MASTER);
            assertTrue(backup.holdsVip(), "the backup took the VIP\n" + backup.output());
            if (!hostDies) {
                master.awaitState(Keepalived.FAULT);
                assertFalse(master.holdsVip(), "the failed master released the VIP\n" + master.output());
            }
            assertTrue(
                    gapMs < GOAL_MS,
                    "failover took " + gapMs + " ms\n" + probe.output() + master.output() + backup.output());
        } finally {
            net.close();
        }
        net.topology.assertNothingLeft();
        return gapMs;
    }
}
