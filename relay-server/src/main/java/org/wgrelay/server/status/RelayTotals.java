package org.wgrelay.server.status;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.wgrelay.server.metrics.PeerCounter;
import org.wgrelay.server.metrics.PeerStats;
import org.wgrelay.server.metrics.RelayCounter;
import org.wgrelay.server.metrics.RelayCounters;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.xdp.XdpStats;

/**
 * The relay's numbers as SPEC reports them: userspace's counters plus, when the XDP fast
 * path is attached, what the kernel counted for datagrams it handled without passing
 * them up. One place for the sums, so {@code wg show}, {@code wg peer list} and
 * {@code /metrics} agree.
 *
 * <p>Kernel-handled datagrams: forwarded, dropped as not shaped, dropped as blocklisted.
 * Everything else the program passes to userspace, which counts it itself.
 */
public final class RelayTotals {
    private final RelayCounters counters;
    private final Supplier<XdpStats> xdp;

    /** @param xdp gives the latest XDP counters, or null while XDP is not attached */
    public RelayTotals(RelayCounters counters, Supplier<XdpStats> xdp) {
        this.counters = counters;
        this.xdp = xdp;
    }

    public boolean xdpAttached() {
        return xdp.get() != null;
    }

    public long get(RelayCounter c) {
        long user = counters.get(c);
        XdpStats k = xdp.get();
        if (k == null) {
            return user;
        }
        return switch (c) {
            case RX_PACKETS -> user + k.total("fwd") + k.total("drop_shape") + k.total("drop_block");
            case FWD_PACKETS -> user + k.total("fwd");
            case DROP_NOT_WG_SHAPED -> user + k.total("drop_shape");
            case DROP_BLOCKLISTED -> user + k.total("drop_block");
            default -> user;
        };
    }

    /** A peer's counter, with what the program forwarded for its current endpoint. */
    public long peer(PeerEntry peer, PeerStats stats, PeerCounter c) {
        long user = stats == null ? 0 : stats.get(c);
        XdpStats all = xdp.get();
        if (all == null || !peer.endpoint().isIpv4()) {
            return user;
        }
        XdpStats.PeerStat k = all.peers().get(peer.endpoint().address().getHostAddress() + " " + peer.endpoint().port());
        if (k == null) {
            return user;
        }
        return switch (c) {
            case RX_PACKETS -> user + k.rxPackets();
            case RX_BYTES -> user + k.rxBytes();
            case FWD_PACKETS -> user + k.fwdPackets();
            case FWD_BYTES -> user + k.fwdBytes();
            default -> user;
        };
    }

    /** SPEC's {@code xdp_*} keys of {@code wg show}; empty when XDP is off. */
    public Map<String, Long> xdpKeys() {
        Map<String, Long> m = new LinkedHashMap<>();
        XdpStats k = xdp.get();
        if (k != null) {
            m.put("xdp_rx_packets", k.total("rx"));
            m.put("xdp_fwd_packets", k.total("fwd"));
            m.put("xdp_pass_no_peer", k.total("pass_no_peer"));
            m.put("xdp_pass_no_mac", k.total("pass_no_mac"));
        }
        return m;
    }
}
