package org.wgrelay.server.pipeline;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Bounds the MAC1 search that an unknown source's initiation triggers (SPEC rule 3
 * tries every stamped key): per source IP at most {@link #PER_SOURCE_PER_SECOND}
 * searches a second, and per worker at most {@link #MAC_CHECKS_PER_SECOND} MAC1
 * computations a second across all sources. Threat: a flood of initiations from
 * spoofed sources would otherwise buy O(keys) hashing per packet.
 *
 * <p>One per worker; only that worker's event loop touches it, so no lock. The
 * per-source table is bounded ({@link #SOURCES}, least recently seen evicted).
 */
public final class HandshakeBudget {
    public static final int PER_SOURCE_PER_SECOND = 4;
    public static final long MAC_CHECKS_PER_SECOND = 200_000;
    public static final int SOURCES = 4096;

    private static final class Window {
        long second;
        int used;
    }

    private final LinkedHashMap<InetAddress, Window> perSource = new LinkedHashMap<>(SOURCES * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Window> eldest) {
            return size() > SOURCES;
        }
    };
    private long tokens = MAC_CHECKS_PER_SECOND;
    private long refilledAtMillis = Long.MIN_VALUE;

    /** Source IPs whose search windows are remembered (at most {@link #SOURCES}). */
    public int trackedSources() {
        return perSource.size();
    }

    /** True when a search over {@code keys} stamped keys from {@code ip} may run now; takes the budget. */
    public boolean tryAcquire(InetAddress ip, int keys, long nowMillis) {
        if (refilledAtMillis == Long.MIN_VALUE) {
            refilledAtMillis = nowMillis;
        }
        long elapsed = nowMillis - refilledAtMillis;
        if (elapsed > 0) {
            tokens = Math.min(MAC_CHECKS_PER_SECOND, tokens + elapsed * MAC_CHECKS_PER_SECOND / 1000);
            refilledAtMillis = nowMillis;
        }
        if (tokens < keys) {
            return false;
        }
        Window w = perSource.get(ip);
        long second = nowMillis / 1000;
        if (w == null) {
            w = new Window();
            perSource.put(ip, w);
        }
        if (w.second != second) {
            w.second = second;
            w.used = 0;
        }
        if (w.used >= PER_SOURCE_PER_SECOND) {
            return false;
        }
        w.used++;
        tokens -= keys;
        return true;
    }
}
