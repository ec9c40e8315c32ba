package org.wgrelay.server.counters;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-source-IP drop counts for {@code wg show drop_sources}: at most {@link #CAPACITY}
 * IPs, the least recently seen evicted first.
 *
 * <p>Each worker owns one table and is its only writer and reader, so the drop path
 * takes no lock; {@link #merge} combines the workers' snapshots (taken on their own
 * event loops) into the answer, again capped at {@link #CAPACITY}.
 */
public final class DropSourceTable {
    public static final int CAPACITY = 256;

    /** One source IP's counts. Mutable only inside its owner's table. */
    public static final class Row {
        private final InetAddress ip;
        private long unknownSource;
        private long notWgShaped;
        private long noPubkeyMatch;
        private long handshakeRateLimited;
        private long lastSeenMillis;

        Row(InetAddress ip) {
            this.ip = ip;
        }

        public InetAddress ip() {
            return ip;
        }

        public long unknownSource() {
            return unknownSource;
        }

        public long notWgShaped() {
            return notWgShaped;
        }

        public long noPubkeyMatch() {
            return noPubkeyMatch;
        }

        public long handshakeRateLimited() {
            return handshakeRateLimited;
        }

        public long lastSeenMillis() {
            return lastSeenMillis;
        }

        Row copy() {
            Row r = new Row(ip);
            r.addAll(this);
            return r;
        }

        private void addAll(Row o) {
            unknownSource += o.unknownSource;
            notWgShaped += o.notWgShaped;
            noPubkeyMatch += o.noPubkeyMatch;
            handshakeRateLimited += o.handshakeRateLimited;
            lastSeenMillis = Math.max(lastSeenMillis, o.lastSeenMillis);
        }
    }

    private final LinkedHashMap<InetAddress, Row> rows = new LinkedHashMap<>(CAPACITY * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Row> eldest) {
            return size() > CAPACITY;
        }
    };

    /**
     * True for the reasons counted per source IP (SPEC rule 3 and section A); a drop of an
     * unknown source's datagram for another reason — a destination without an endpoint
     * (SPEC E) — counts in the aggregate only.
     */
    public static boolean countsPerSource(RelayCounter reason) {
        return reason == RelayCounter.DROP_UNKNOWN_SRC
                || reason == RelayCounter.DROP_NOT_WG_SHAPED
                || reason == RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH
                || reason == RelayCounter.DROP_HANDSHAKE_RATE_LIMITED;
    }

    /**
     * Counts one drop. Owner thread only. A known IP costs no allocation; a new IP
     * costs one row (and evicts the least recently seen when full).
     */
    public void record(InetAddress ip, RelayCounter reason, long nowMillis) {
        Row row = rows.get(ip);
        if (row == null) {
            row = new Row(ip);
            rows.put(ip, row);
        }
        switch (reason) {
            case DROP_UNKNOWN_SRC:
                row.unknownSource++;
                break;
            case DROP_NOT_WG_SHAPED:
                row.notWgShaped++;
                break;
            case DROP_HANDSHAKE_NO_PUBKEY_MATCH:
                row.noPubkeyMatch++;
                break;
            case DROP_HANDSHAKE_RATE_LIMITED:
                row.handshakeRateLimited++;
                break;
            default:
                throw new IllegalArgumentException(reason + " is not counted per source");
        }
        row.lastSeenMillis = nowMillis;
    }

    /** A copy of the rows; owner thread only. */
    public List<Row> snapshot() {
        List<Row> copy = new ArrayList<>(rows.size());
        for (Row r : rows.values()) {
            copy.add(r.copy());
        }
        return copy;
    }

    public int size() {
        return rows.size();
    }

    /**
     * Sums per IP across the workers' snapshots and keeps the {@link #CAPACITY} most
     * recently seen, most recent first.
     */
    public static List<Row> merge(List<List<Row>> perWorker) {
        Map<InetAddress, Row> byIp = new HashMap<>();
        for (List<Row> rowsOfWorker : perWorker) {
            for (Row r : rowsOfWorker) {
                byIp.computeIfAbsent(r.ip, Row::new).addAll(r);
            }
        }
        List<Row> merged = new ArrayList<>(byIp.values());
        merged.sort(Comparator.comparingLong(Row::lastSeenMillis).reversed());
        return merged.size() > CAPACITY ? new ArrayList<>(merged.subList(0, CAPACITY)) : merged;
    }
}
