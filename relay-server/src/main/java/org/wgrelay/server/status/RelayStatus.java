package org.wgrelay.server.status;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.store.StoreStatus;

/**
 * The numbers behind SPEC's {@code wg show}, {@code wg peer list} and
 * {@code wg show drop_sources}, as ordered maps with SPEC's keys — one place that
 * reads the counters, so the control verbs and the metrics cannot disagree.
 * Cold path: allocates freely, reads counters without disturbing the workers.
 */
public final class RelayStatus {
    private final RosterService roster;
    private final RelayTotals totals;
    private final int port;
    private final Function<String, String> candidateEndpoint;

    /** @param candidateEndpoint a peer's live roaming candidate as {@code ip:port}, or null */
    public RelayStatus(RosterService roster, RelayTotals totals, int port, Function<String, String> candidateEndpoint) {
        this.roster = roster;
        this.totals = totals;
        this.port = port;
        this.candidateEndpoint = candidateEndpoint;
    }

    /** {@code wg show}: the aggregate counters and the relay's shape. XDP keys come with XDP. */
    public Map<String, Object> show() {
        totals.pollKernelCounts();
        Map<String, Object> m = new LinkedHashMap<>();
        Roster r = roster.roster();
        for (RelayCounter c : RelayCounter.values()) {
            if (c != RelayCounter.TX_ERRORS && (c != RelayCounter.DROP_NO_ROUTE || hubLinks(r))) {
                m.put(c.key(), totals.get(c));
            }
        }
        m.put("port", port);
        m.put("peer_count", r.peerCount());
        m.put("link_count", r.linkCount());
        m.putAll(totals.xdpKeys());
        m.put("xdp_attached", totals.xdpAttached());
        m.put("xdp_mode", totals.xdpMode());
        // SPEC C: where the roster lives; revision and connection only mean something with etcd.
        StoreStatus store = roster.store().status();
        m.put("store", store.kind());
        m.put("store_revision", store.revision());
        m.put("store_connected", store.connected());
        return m;
    }

    /** {@code wg peer list}: one map per peer in registration order. */
    public List<Map<String, Object>> peers() {
        totals.pollKernelCounts();
        Roster r = roster.roster();
        List<Map<String, Object>> out = new ArrayList<>();
        for (PeerEntry p : r.peers()) {
            out.add(row(r, p));
        }
        return out;
    }

    /** One peer's {@code wg peer list} row, or null when there is no such peer. */
    public Map<String, Object> peer(String name) {
        totals.pollKernelCounts();
        Roster r = roster.roster();
        PeerEntry p = r.peer(name);
        return p == null ? null : row(r, p);
    }

    private Map<String, Object> row(Roster r, PeerEntry p) {
        PeerStats stats = roster.statsOf(p.name());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("endpoint", p.endpoint() == null ? null : p.endpoint().toString()); // SPEC E: null until learned
        m.put("pubkey", p.pubkey());
        m.put("label", p.label());
        m.put("linked_to", r.partnerOf(p.name())); // SPEC B: only for exactly one link
        if (hubLinks(r)) {
            m.put("links", r.partnersOf(p.name()));
        }
        m.put("nic", p.nic());
        long lastSeen = stats == null ? 0 : stats.lastSeenMillis();
        m.put("last_seen", lastSeen == 0 ? null : Instant.ofEpochMilli(lastSeen).toString());
        for (PeerCounter c : PeerCounter.values()) {
            if (c != PeerCounter.LAST_SEEN_MILLIS && (c != PeerCounter.DROP_NO_ROUTE || hubLinks(r))) {
                m.put(c.key(), stats == null ? 0 : stats.get(c));
            }
        }
        m.put("candidate_endpoint", candidateEndpoint.apply(p.name()));
        return m;
    }

    /**
     * SPEC B's keys ({@code links}, {@code drop_no_route}) come with hub links: a relay whose
     * peers may be in one link only answers exactly as without section B.
     */
    private static boolean hubLinks(Roster r) {
        return r.maxLinksPerPeer() > 1;
    }

    /** {@code wg show drop_sources}: rows from the merged per-worker tables. */
    public static List<Map<String, Object>> dropSources(List<DropSourceTable.Row> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (DropSourceTable.Row row : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ip", hostOnly(row.ip()));
            m.put("drop_unknown_src", row.unknownSource());
            m.put("drop_not_wg_shaped", row.notWgShaped());
            m.put("drop_handshake_no_pubkey_match", row.noPubkeyMatch());
            m.put("drop_handshake_rate_limited", row.handshakeRateLimited());
            m.put(
                    "last_seen",
                    row.lastSeenMillis() == 0
                            ? null
                            : Instant.ofEpochMilli(row.lastSeenMillis()).toString());
            out.add(m);
        }
        return out;
    }

    private static String hostOnly(InetAddress ip) {
        return Endpoint.hostText(ip);
    }
}
