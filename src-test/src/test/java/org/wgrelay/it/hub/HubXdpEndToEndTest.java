package org.wgrelay.it.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.hub.HubAndSpokes.Site;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.RelayControl.Counters;

/**
 * The hub and its three spokes with the XDP fast path attached in native mode to all four relay
 * veths (SPEC 0.3 B: transport data from and to a hub is forwarded in the kernel too, through the
 * session index the loader mirrors into a BPF map). Handshakes go up to userspace; the pings
 * between the hub and every spoke, in both directions, must ride the kernel.
 */
class HubXdpEndToEndTest {

    private static final Duration HANDSHAKE = Duration.ofSeconds(30);
    private static final int PINGS = 20;
    /** Each spoke's pings and the hub's answers: two transport messages through the relay per ping. */
    private static final long DATAGRAMS = 2L * PINGS * 3;
    /** A rekey's worth per spoke that userspace may still forward. */
    private static final long USERSPACE_SLACK = 6;

    /** The relay with XDP on every relay veth, the hub and three spokes; closed by JUnit after the test. */
    @AutoClose
    private final HubAndSpokes fixture = HubAndSpokes.start(new HubAndSpokes.Options(true, false));

    @Test
    void everySpokePingsTheHubAtOnceAndTheHubsTransportDataRidesTheKernel() throws Exception {
        assertTrue(
                fixture.relay.startupLine().contains("xdp=drv"),
                "the fast path must be attached: " + fixture.relay.startupLine());
        fixture.startAll();
        Site hub = fixture.hub;
        fixture.onEachSpokeAtOnce(spoke -> {
            fixture.awaitPing(spoke, hub, HANDSHAKE);
            return null;
        });

        Counters before = fixture.control.settled();
        List<Command.Result> bursts =
                fixture.onEachSpokeAtOnce(spoke -> fixture.tunnel(spoke, hub).ping(PINGS, "0.05"));
        for (int i = 0; i < bursts.size(); i++) {
            Command.Result burst = bursts.get(i);
            assertTrue(
                    burst.succeeded() && burst.stdout().contains(" " + PINGS + " received"),
                    PINGS + " of " + PINGS + " pings from " + fixture.spokes.get(i) + " to the hub: " + burst.describe()
                            + "\n" + fixture.diagnostics());
        }
        Counters after = fixture.control.awaitShow(
                Duration.ofSeconds(20),
                DATAGRAMS + " transport messages in the kernel's counters",
                c -> c.since(before, "xdp_fwd_packets") >= DATAGRAMS && c.get("xdp_rx_packets") == c.get("rx_packets"));
        long userFwd = after.userFwd() - before.userFwd();
        System.out.printf(
                "XDP hub: %d datagrams forwarded in the kernel, %d in userspace%n",
                after.since(before, "xdp_fwd_packets"), userFwd);
        // Of at least 120 datagrams, half of them the hub's answers, at most a handful went up: the
        // hub's transport data to its spokes was forwarded in the kernel.
        assertTrue(
                userFwd <= USERSPACE_SLACK,
                "userspace forwarded " + userFwd + " of the pings' datagrams: " + before.json() + " -> " + after.json()
                        + "\n" + fixture.diagnostics());
        assertEquals(0, after.get("drop_no_route"), after.json() + "\n" + fixture.diagnostics());

        // The hub's own pings to each spoke, on the sessions the spokes made: the kernel again.
        Counters beforeHub = fixture.control.settled();
        for (Site spoke : fixture.spokes) {
            Command.Result ping = fixture.tunnel(hub, spoke).ping(PINGS, "0.05");
            assertTrue(
                    ping.succeeded() && ping.stdout().contains(" " + PINGS + " received"),
                    PINGS + " of " + PINGS + " pings from the hub to " + spoke + ": " + ping.describe() + "\n"
                            + fixture.diagnostics());
        }
        Counters afterHub = fixture.control.awaitShow(
                Duration.ofSeconds(20),
                DATAGRAMS + " more transport messages in the kernel's counters",
                c -> c.since(beforeHub, "xdp_fwd_packets") >= DATAGRAMS
                        && c.get("xdp_rx_packets") == c.get("rx_packets"));
        long hubUserFwd = afterHub.userFwd() - beforeHub.userFwd();
        assertTrue(
                hubUserFwd <= USERSPACE_SLACK,
                "userspace forwarded " + hubUserFwd + " of the hub's pings' datagrams: " + beforeHub.json() + " -> "
                        + afterHub.json() + "\n" + fixture.diagnostics());
    }
}
