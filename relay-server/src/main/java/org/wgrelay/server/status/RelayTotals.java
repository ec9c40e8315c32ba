package org.wgrelay.server.status;

import java.util.Map;
import java.util.function.Supplier;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.xdp.XdpFastPath;

/**
 * The relay's numbers as SPEC reports them, for {@code wg show}, {@code wg peer list}
 * and {@code /metrics} alike. The kernel's share (datagrams the XDP program forwarded or
 * dropped on its own) is already in the counters: the XDP thread folds it into their
 * XDP stripe each second and whenever a reader asks ({@link #pollKernelCounts}), so these
 * are plain sums; this class adds the XDP state.
 */
public final class RelayTotals {
    private final RelayCounters counters;
    private final Supplier<XdpFastPath> xdp;

    /** @param xdp gives the fast path, or null when XDP is off */
    public RelayTotals(RelayCounters counters, Supplier<XdpFastPath> xdp) {
        this.counters = counters;
        this.xdp = xdp;
    }

    public boolean xdpAttached() {
        XdpFastPath x = xdp.get();
        return x != null && x.attached();
    }

    /** {@code off}, or the attach mode. */
    public String xdpMode() {
        XdpFastPath x = xdp.get();
        return x == null ? "off" : x.mode();
    }

    /**
     * Brings the kernel's share up to date before a read ({@link XdpFastPath#pollCountsNow}):
     * a report then misses nothing the program had counted when it was asked for.
     */
    public void pollKernelCounts() {
        XdpFastPath x = xdp.get();
        if (x != null) {
            x.pollCountsNow();
        }
    }

    public long get(RelayCounter c) {
        return counters.get(c);
    }

    /** BPF map writes that failed since start (not a SPEC counter; an operator's alarm). */
    public long xdpMapWriteFailures() {
        XdpFastPath x = xdp.get();
        return x == null ? 0 : x.failedMapWrites();
    }

    /** SPEC's {@code xdp_*} keys of {@code wg show}; empty when XDP is off. */
    public Map<String, Long> xdpKeys() {
        XdpFastPath x = xdp.get();
        return x == null ? Map.of() : x.xdpKeys();
    }
}
