package org.wgrelay.server.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.PeerRuntime;
import org.wgrelay.xdp.XdpStats;

/**
 * Folding the program's counter snapshots into the relay's: only growth is added, nothing
 * twice, nothing lost when an entry goes and comes back or the helper restarts.
 */
class KernelCountsTest {
    private static final String ALICE = "198.51.100.10 40001";
    private static final long NOW = 1_000_000L;

    private final RelayCounters counters = new RelayCounters(1);
    private final KernelCounts kernel = new KernelCounts(counters);
    private final PeerStats aliceStats = new PeerStats(1);
    private ForwardingTable table;

    @BeforeEach
    void aliceLinkedToBob() {
        Roster r = Roster.EMPTY;
        r = ok(r.addPeer("alice", ep("198.51.100.10", 40001), null, null));
        r = ok(r.addPeer("bob", ep("203.0.113.20", 40002), null, null));
        r = ok(r.addLink("alice", "bob"));
        table = ForwardingTable.build(r, name -> new PeerRuntime(name.equals("alice") ? aliceStats : new PeerStats(1)));
    }

    @Test
    void eachPollAddsOnlyTheGrowthSinceTheLastOne() {
        kernel.fold(stats(10, 25), table, NOW);
        kernel.fold(stats(18, 40), table, NOW);

        assertEquals(40, aliceStats.get(PeerCounter.FWD_PACKETS));
        assertEquals(40 * 100, aliceStats.get(PeerCounter.FWD_BYTES));
        assertEquals(18, counters.get(RelayCounter.FWD_PACKETS));
        assertEquals(18, kernel.xdpKeys().get("xdp_fwd_packets"));
        assertEquals(18, counters.get(RelayCounter.RX_PACKETS), "rx = fwd + the kernel's own drops");
        assertEquals(21, kernel.xdpKeys().get("xdp_rx_packets"), "the program's rx includes what it passed up");
    }

    @Test
    void anEntryWrittenAgainAfterItWasTakenOutCountsFromZero() {
        kernel.fold(stats(25, 25), table, NOW); // the poll before the unpeer takes the old entry's last counts
        kernel.entriesRemoved(Set.of(ALICE));
        kernel.fold(stats(65, 40), table, NOW); // the new entry forwarded 40 before the next poll

        assertEquals(65, aliceStats.get(PeerCounter.FWD_PACKETS), "25 before the entry went and 40 since it came back");
    }

    @Test
    void anEntryThatStaysIsNotCountedAgainFromZero() {
        kernel.fold(stats(25, 25), table, NOW);
        kernel.entriesRemoved(Set.of("203.0.113.20 40002")); // someone else's
        kernel.fold(stats(30, 30), table, NOW);

        assertEquals(30, aliceStats.get(PeerCounter.FWD_PACKETS));
    }

    @Test
    void anAdoptedProgramsCountsFromBeforeThisRelayAreABaselineNotGrowth() {
        // the kept program counted under the last relay and while none ran
        kernel.baseline(stats(1000, 800));
        kernel.fold(stats(1010, 806), table, NOW);

        assertEquals(6, aliceStats.get(PeerCounter.FWD_PACKETS));
        assertEquals(10, counters.get(RelayCounter.FWD_PACKETS));
        assertEquals(10, kernel.xdpKeys().get("xdp_fwd_packets"));
    }

    @Test
    void aRestartedHelperCountsFromZeroWithoutLosingWhatWasCounted() {
        kernel.fold(stats(25, 25), table, NOW);
        kernel.helperRestarted();
        kernel.fold(stats(30, 30), table, NOW);

        assertEquals(55, aliceStats.get(PeerCounter.FWD_PACKETS));
        assertEquals(55, counters.get(RelayCounter.FWD_PACKETS));
        assertTrue(aliceStats.lastSeenMillis() > 0, "kernel-forwarded traffic is traffic seen");
    }

    @Test
    void aHubsDataPassedUpForWantOfASessionIsReportedAndLeftToUserspacesCounts() {
        kernel.fold(
                XdpStats.parse(List.of("stats rx=7 fwd=0 pass_no_peer=0 pass_no_mac=0 drop_shape=0 drop_block=0"
                        + " pass_handshake=0 pass_other=0 tx_err=0 pass_no_session=7")),
                table,
                NOW);

        assertEquals(7, kernel.xdpKeys().get("xdp_pass_no_session"));
        assertEquals(7, kernel.xdpKeys().get("xdp_rx_packets"));
        assertEquals(0, counters.get(RelayCounter.RX_PACKETS), "userspace counts what went up");
    }

    /** The helper's {@code stats} answer: {@code fwd} forwarded in total, 3 more passed up, alice's entry. */
    private static XdpStats stats(long fwd, long aliceFwd) {
        return XdpStats.parse(List.of(
                "stats rx=" + (fwd + 3) + " fwd=" + fwd + " pass_no_peer=3 pass_no_mac=0 drop_shape=0 drop_block=0",
                "peerstat " + ALICE + " " + aliceFwd + " " + aliceFwd * 100 + " " + aliceFwd + " " + aliceFwd * 100));
    }

    private static Roster ok(RosterChange c) {
        assertTrue(c.ok(), c.message());
        return c.roster();
    }

    private static Endpoint ep(String ip, int port) {
        try {
            return Endpoint.of(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
