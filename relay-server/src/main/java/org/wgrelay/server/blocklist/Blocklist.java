package org.wgrelay.server.blocklist;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Source IPs that are blocked until an expiry time (SPEC rule 1). Workers read an
 * immutable snapshot through one volatile read and never lock; changes (the control
 * verbs, strike escalation) copy the snapshot on a cold path, one writer at a time.
 *
 * <p>The expiry check uses the caller's clock reading, so an expired entry stops
 * blocking at once even before a sweep removes it.
 */
public final class Blocklist {
    /** One blocked IP: expiry in epoch millis and its lifetime strike count. */
    public record Entry(InetAddress ip, long expiresAtMillis, int totalStrikes) {}

    /** Bounded under a flood of struck sources; when full, the entry expiring soonest goes. */
    public static final int CAPACITY = 65_536;

    private final int capacity;
    private volatile Map<InetAddress, Entry> entries = Collections.emptyMap();
    private final java.util.List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Blocklist() {
        this(CAPACITY);
    }

    Blocklist(int capacity) {
        this.capacity = capacity;
    }

    /**
     * True when {@code ip} is blocked at {@code nowMillis}. Worker hot path: one
     * volatile read, and with an empty list nothing else.
     */
    public boolean isBlocked(InetAddress ip, long nowMillis) {
        Map<InetAddress, Entry> snapshot = entries;
        if (snapshot.isEmpty()) {
            return false;
        }
        Entry e = snapshot.get(ip);
        return e != null && e.expiresAtMillis > nowMillis;
    }

    /** Told after every change (block, unblock, sweep); must not block. For the XDP map sync. */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    private void changed() {
        for (Runnable r : listeners) {
            r.run();
        }
    }

    /** Blocks {@code ip} until {@code expiresAtMillis} (extends, never shortens). */
    public synchronized void block(InetAddress ip, long expiresAtMillis, int totalStrikes) {
        Map<InetAddress, Entry> next = new HashMap<>(entries);
        Entry old = next.get(ip);
        if (old == null && next.size() >= capacity) {
            Entry soonest = null;
            for (Entry e : next.values()) {
                if (soonest == null || e.expiresAtMillis < soonest.expiresAtMillis) {
                    soonest = e;
                }
            }
            next.remove(soonest.ip());
        }
        long until = old == null ? expiresAtMillis : Math.max(old.expiresAtMillis, expiresAtMillis);
        next.put(ip, new Entry(ip, until, totalStrikes));
        entries = Collections.unmodifiableMap(next);
        changed();
    }

    /** Removes {@code ip}; false when it was not listed. */
    public synchronized boolean unblock(InetAddress ip) {
        if (!entries.containsKey(ip)) {
            return false;
        }
        Map<InetAddress, Entry> next = new HashMap<>(entries);
        next.remove(ip);
        entries = Collections.unmodifiableMap(next);
        changed();
        return true;
    }

    /** Drops expired entries; run by a timer, never by a worker. Returns how many went. */
    public synchronized int sweep(long nowMillis) {
        Map<InetAddress, Entry> next = new HashMap<>(entries);
        int before = next.size();
        next.values().removeIf(e -> e.expiresAtMillis <= nowMillis);
        if (next.size() != before) {
            entries = Collections.unmodifiableMap(next);
            changed();
        }
        return before - next.size();
    }

    /** Entries that have not expired at {@code nowMillis}. */
    public List<Entry> entries(long nowMillis) {
        List<Entry> live = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.expiresAtMillis > nowMillis) {
                live.add(e);
            }
        }
        return live;
    }

    /** How many entries block at {@code nowMillis}: what {@link #entries} would list, without the list. */
    public int liveCount(long nowMillis) {
        int live = 0;
        for (Entry e : entries.values()) {
            if (e.expiresAtMillis > nowMillis) {
                live++;
            }
        }
        return live;
    }

    /** True when nothing is listed; one volatile read. */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Entries held, expired ones included until the sweep takes them (the table's bound). */
    public int size() {
        return entries.size();
    }
}
