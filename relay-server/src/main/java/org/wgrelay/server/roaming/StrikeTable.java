package org.wgrelay.server.roaming;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Strikes per source IP (a failed roaming candidate is one strike) and SPEC's
 * escalation onto the blocklist: 2 strikes within 60 s → 60 s; 5 within 1 h → 1 h;
 * 10 within 24 h → 24 h.
 *
 * <p>Bounded: at most {@link #CAPACITY} IPs, the one struck least recently evicted
 * first; strikes older than 24 h are swept. Cold path (strikes are rare and need a
 * verified MAC1 first), so one monitor guards it.
 */
public final class StrikeTable {
    public static final int CAPACITY = 65_536;
    /** The escalation steps, longest first: window, strikes needed, block duration. */
    static final long[][] STEPS = {
        {24 * 3600_000L, 10, 24 * 3600_000L},
        {3600_000L, 5, 3600_000L},
        {60_000L, 2, 60_000L},
    };

    private static final int KEPT = 10; // enough for the largest step

    /** The decision after a strike: block for {@code millis} because {@code strikes} fell in the window. */
    public record Escalation(long millis, int strikes, int totalStrikes) {}

    private static final class History {
        final long[] times = new long[KEPT]; // ring of the most recent strike times
        int next;
        int count; // in the ring, at most KEPT
        long total;
        long last;
    }

    private final int capacity;
    private final LinkedHashMap<InetAddress, History> byIp;

    public StrikeTable() {
        this(CAPACITY);
    }

    StrikeTable(int capacity) {
        this.capacity = capacity;
        this.byIp = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, History> eldest) {
                return size() > StrikeTable.this.capacity;
            }
        };
    }

    /**
     * Records one strike and returns the escalation it triggers (the longest step whose
     * count is reached), or null.
     */
    public synchronized Escalation strike(InetAddress ip, long nowMillis) {
        History h = byIp.computeIfAbsent(ip, k -> new History());
        h.times[h.next] = nowMillis;
        h.next = (h.next + 1) % KEPT;
        h.count = Math.min(KEPT, h.count + 1);
        h.total++;
        h.last = nowMillis;
        for (long[] step : STEPS) {
            int within = countWithin(h, nowMillis, step[0]);
            if (within >= step[1]) {
                return new Escalation(step[2], within, (int) Math.min(Integer.MAX_VALUE, h.total));
            }
        }
        return null;
    }

    /** Lifetime strikes of {@code ip} while it is in the table, else 0. */
    public synchronized int totalStrikes(InetAddress ip) {
        History h = byIp.get(ip);
        return h == null ? 0 : (int) Math.min(Integer.MAX_VALUE, h.total);
    }

    /** A confirmed relearn clears the IP's strikes (SPEC). */
    public synchronized void clear(InetAddress ip) {
        byIp.remove(ip);
    }

    /** Drops IPs with no strike in the last 24 h; run by the timer. */
    public synchronized int sweep(long nowMillis) {
        int before = byIp.size();
        byIp.values().removeIf(h -> nowMillis - h.last > STEPS[0][0]);
        return before - byIp.size();
    }

    public synchronized int size() {
        return byIp.size();
    }

    private static int countWithin(History h, long now, long window) {
        int n = 0;
        for (int i = 0; i < h.count; i++) {
            if (now - h.times[i] < window) {
                n++;
            }
        }
        return n;
    }
}
