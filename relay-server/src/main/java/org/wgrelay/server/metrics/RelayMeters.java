package org.wgrelay.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterListener;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.status.RelayTotals;

/**
 * SPEC's Prometheus metrics as Micrometer meters that read the striped counters at
 * scrape time — the hot path never sees Micrometer. Per-peer series follow the roster:
 * registered when a peer is added, removed when it is removed, so no stale series. A
 * peer's counters already hold the kernel's share (the XDP thread adds it to the peer's
 * own stripe), so every meter is a plain read.
 *
 * <p>Micrometer holds a function meter's object weakly; this class keeps the strong
 * references ({@code totals}, {@code peerStats}, {@code ownerQueueRejections}).
 */
public final class RelayMeters implements RosterListener {
    private final MeterRegistry registry;
    private final RosterService roster;
    private final RelayTotals totals;
    private final Map<String, PeerStats> peerStats = new HashMap<>();
    private final Map<String, List<Meter>> peerMeters = new HashMap<>();
    /** Held here: Micrometer keeps a function counter's object only weakly. */
    private final LongSupplier ownerQueueRejections;

    /** @param ownerQueueRejections tasks the owner thread's full queue refused, since start */
    public RelayMeters(
            MeterRegistry registry,
            RosterService roster,
            RelayTotals totals,
            Blocklist blocklist,
            LongSupplier clockMillis,
            LongSupplier ownerQueueRejections) {
        this.ownerQueueRejections = ownerQueueRejections;
        this.registry = registry;
        this.roster = roster;
        this.totals = totals;
        FunctionCounter.builder("wgrelay.rx.packets", totals, c -> c.get(RelayCounter.RX_PACKETS))
                .description("Datagrams received on the relay port, dropped ones included")
                .register(registry);
        FunctionCounter.builder("wgrelay.forwarded.packets", totals, c -> c.get(RelayCounter.FWD_PACKETS))
                .description("Datagrams forwarded to a link partner")
                .register(registry);
        boolean hubLinks = roster.roster().maxLinksPerPeer() > 1; // SPEC B's reason comes with hub links
        for (RelayCounter c : RelayCounter.values()) {
            if (c.isDrop() && (c != RelayCounter.DROP_NO_ROUTE || hubLinks)) {
                FunctionCounter.builder("wgrelay.dropped.packets", totals, cs -> cs.get(c))
                        .tag("reason", c.key().substring("drop_".length()))
                        .description("Datagrams dropped, by reason")
                        .register(registry);
            }
        }
        Gauge.builder("wgrelay.peers", roster, r -> r.roster().peerCount())
                .description("Registered peers")
                .register(registry);
        Gauge.builder("wgrelay.links", roster, r -> r.roster().linkCount())
                .description("Links")
                .register(registry);
        // Live entries at scrape time, as wg blocklist list shows them: an expired entry
        // leaves the gauge when it stops blocking, not when a sweep happens to run.
        Gauge.builder("wgrelay.blocklist.entries", blocklist, b -> b.liveCount(clockMillis.getAsLong()))
                .description("Blocked source IPs")
                .register(registry);
        FunctionCounter.builder("wgrelay.xdp.map.write.failures", totals, RelayTotals::xdpMapWriteFailures)
                .description("BPF map writes that failed (the maps are resynced after one)")
                .register(registry);
        FunctionCounter.builder("wgrelay.owner.queue.rejections", this.ownerQueueRejections, LongSupplier::getAsLong)
                .description("Tasks the owner thread's full queue refused (the next sweep redoes their work)")
                .register(registry);
        Gauge.builder("wgrelay.xdp.attached", totals, t -> t.xdpAttached() ? 1 : 0)
                .description("1 when the XDP fast path is attached")
                .register(registry);
        // SPEC C: the store's health (the file store is always connected, at revision 0).
        Gauge.builder("wgrelay.store.connected", roster, r -> {
                    Boolean c = r.store().status().connected();
                    return c == null || c ? 1 : 0;
                })
                .description("1 while the roster's store answers (always 1 for the roster file)")
                .register(registry);
        Gauge.builder("wgrelay.store.revision", roster, r -> {
                    Long rev = r.store().status().revision();
                    return rev == null ? 0 : rev;
                })
                .description("The etcd revision this relay has applied (0 for the roster file)")
                .register(registry);
        FunctionCounter.builder(
                        "wgrelay.store.syncs", roster, r -> r.store().status().syncs())
                .description("Full reads of the etcd store: the first, and one after each loss or compaction")
                .register(registry);
        FunctionCounter.builder(
                        "wgrelay.store.losses", roster, r -> r.store().status().losses())
                .description("Times the connection to the etcd store was lost")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        syncPeers(roster.roster());
    }

    @Override
    public synchronized void rosterChanged(Roster before, RosterChange change) {
        syncPeers(change.roster());
    }

    private synchronized void syncPeers(Roster current) {
        for (String name : new ArrayList<>(peerStats.keySet())) {
            PeerStats now = current.peer(name) == null ? null : roster.statsOf(name);
            if (now != peerStats.get(name)) {
                peerMeters.remove(name).forEach(registry::remove);
                peerStats.remove(name);
            }
        }
        for (PeerEntry p : current.peers()) {
            if (!peerStats.containsKey(p.name())) {
                PeerStats stats = roster.statsOf(p.name());
                if (stats != null) {
                    peerStats.put(p.name(), stats);
                    peerMeters.put(p.name(), register(p.name(), stats));
                }
            }
        }
    }

    private List<Meter> register(String peer, PeerStats stats) {
        List<Meter> meters = new ArrayList<>();
        meters.add(FunctionCounter.builder("wgrelay.peer.rx.bytes", stats, s -> s.get(PeerCounter.RX_BYTES))
                .tag("peer", peer)
                .description("UDP payload bytes received from the peer")
                .register(registry));
        meters.add(FunctionCounter.builder("wgrelay.peer.forwarded.bytes", stats, s -> s.get(PeerCounter.FWD_BYTES))
                .tag("peer", peer)
                .description("UDP payload bytes from the peer forwarded to its partner")
                .register(registry));
        meters.add(FunctionCounter.builder("wgrelay.peer.dropped.packets", stats, s -> s.get(PeerCounter.DROP_NO_LINK))
                .tag("peer", peer)
                .tag("reason", "no_link")
                .description("The peer's datagrams dropped, by reason")
                .register(registry));
        meters.add(FunctionCounter.builder(
                        "wgrelay.peer.dropped.packets", stats, s -> s.get(PeerCounter.DROP_PUBKEY_MISMATCH))
                .tag("peer", peer)
                .tag("reason", "pubkey_mismatch")
                .description("The peer's datagrams dropped, by reason")
                .register(registry));
        meters.add(
                FunctionCounter.builder("wgrelay.peer.dropped.packets", stats, s -> s.get(PeerCounter.DROP_NO_ENDPOINT))
                        .tag("peer", peer)
                        .tag("reason", "no_endpoint")
                        .description("The peer's datagrams dropped, by reason")
                        .register(registry));
        if (roster.roster().maxLinksPerPeer() > 1) {
            meters.add(FunctionCounter.builder(
                            "wgrelay.peer.dropped.packets", stats, s -> s.get(PeerCounter.DROP_NO_ROUTE))
                    .tag("peer", peer)
                    .tag("reason", "no_route")
                    .description("The peer's datagrams dropped, by reason")
                    .register(registry));
        }
        return meters;
    }

    /** The totals this binder reads (kept strongly referenced here: Micrometer holds them weakly). */
    RelayTotals totals() {
        return totals;
    }
}
