package org.wgrelay.server.xdp;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.Route;
import org.wgrelay.xdp.XdpStats;

/**
 * Folds successive snapshots of the program's counters into the relay's own: each poll
 * adds only the growth since the last one to the counters' XDP stripe and to each
 * peer's, so counts never go backwards when an endpoint's map entry is replaced (a
 * move, a relearn, a link removal) or the helper restarts (its counters start at 0:
 * a value smaller than last time counts from 0). After each attach the counts so far
 * are the baseline ({@link #baseline}): an adopted program's go on from the last relay's.
 * Written on the XDP thread only.
 *
 * <p>What the kernel handled on its own — forwarded, dropped as unshaped or
 * blocklisted — is what it adds; what it passed up, userspace counts itself.
 */
final class KernelCounts {
    static final String[] AGGREGATES = {
        "rx", "fwd", "pass_no_peer", "pass_no_mac", "pass_no_session", "drop_shape", "drop_block"
    };

    private final RelayCounters counters;
    private final Map<String, Long> lastTotals = new HashMap<>();
    private final Map<String, Long> totals = new LinkedHashMap<>();
    private final Map<String, XdpStats.PeerStat> lastPeers = new HashMap<>();

    KernelCounts(RelayCounters counters) {
        this.counters = counters;
        for (String k : AGGREGATES) {
            totals.put(k, 0L);
        }
    }

    /** Adds one poll's growth. */
    synchronized void fold(XdpStats now, ForwardingTable table, long nowMillis) {
        long fwd = 0;
        long dropShape = 0;
        long dropBlock = 0;
        for (String k : AGGREGATES) {
            long d = growth(lastTotals.getOrDefault(k, 0L), now.total(k));
            lastTotals.put(k, now.total(k));
            totals.merge(k, d, Long::sum);
            switch (k) {
                case "fwd" -> fwd = d;
                case "drop_shape" -> dropShape = d;
                case "drop_block" -> dropBlock = d;
                default -> {}
            }
        }
        int s = counters.xdpStripe();
        counters.add(s, RelayCounter.RX_PACKETS, fwd + dropShape + dropBlock);
        counters.add(s, RelayCounter.FWD_PACKETS, fwd);
        counters.add(s, RelayCounter.DROP_NOT_WG_SHAPED, dropShape);
        counters.add(s, RelayCounter.DROP_BLOCKLISTED, dropBlock);

        Map<String, XdpStats.PeerStat> seen = new HashMap<>();
        for (Map.Entry<String, XdpStats.PeerStat> e : now.peers().entrySet()) {
            XdpStats.PeerStat cur = e.getValue();
            XdpStats.PeerStat last = lastPeers.get(e.getKey());
            long packets = last == null ? cur.fwdPackets() : growth(last.fwdPackets(), cur.fwdPackets());
            long bytes = last == null ? cur.fwdBytes() : growth(last.fwdBytes(), cur.fwdBytes());
            seen.put(e.getKey(), cur);
            if (packets == 0 && bytes == 0) {
                continue;
            }
            Route route = table.lookup(endpoint(e.getKey()));
            if (route != null) {
                route.stats().addForwardedByKernel(packets, bytes, nowMillis);
            }
        }
        lastPeers.clear();
        lastPeers.putAll(seen);
    }

    /**
     * These endpoints' map entries were taken out (after a fold that took their last
     * counts): an entry written again for the same endpoint starts from 0, so its next
     * count must not be measured against the old entry's.
     */
    synchronized void entriesRemoved(Set<String> keys) {
        lastPeers.keySet().removeAll(keys);
    }

    /** The helper restarted and its counters could not be read: take them as starting from 0. */
    synchronized void helperRestarted() {
        lastTotals.clear();
        lastPeers.clear();
    }

    /**
     * A helper was just attached: what its program counted so far is not this relay's. A
     * fresh program reports zeros; an adopted one (kept by an earlier relay, counting on
     * while no relay ran) reports that relay's totals, which must not be added again as
     * this one's growth. Counts go on from here, so the relay's counters, like its
     * userspace ones, cover what happened since it started.
     */
    synchronized void baseline(XdpStats now) {
        lastTotals.clear();
        for (String k : AGGREGATES) {
            lastTotals.put(k, now.total(k));
        }
        lastPeers.clear();
        lastPeers.putAll(now.peers());
    }

    /**
     * SPEC's {@code xdp_*} keys: totals since the relay started. {@code xdp_pass_no_session}
     * (a hub's data whose receiver index the maps do not hold, passed up) is ours, beside them.
     */
    synchronized Map<String, Long> xdpKeys() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("xdp_rx_packets", totals.get("rx"));
        m.put("xdp_fwd_packets", totals.get("fwd"));
        m.put("xdp_pass_no_peer", totals.get("pass_no_peer"));
        m.put("xdp_pass_no_mac", totals.get("pass_no_mac"));
        m.put("xdp_pass_no_session", totals.get("pass_no_session"));
        return m;
    }

    private static long growth(long last, long now) {
        return now >= last ? now - last : now;
    }

    private static InetSocketAddress endpoint(String key) {
        int space = key.indexOf(' ');
        try {
            return new InetSocketAddress(
                    InetAddress.getByName(key.substring(0, space)), Integer.parseInt(key.substring(space + 1)));
        } catch (UnknownHostException | RuntimeException e) {
            return new InetSocketAddress(0);
        }
    }
}
