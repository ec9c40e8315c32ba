package org.wgrelay.server.table;

/**
 * An immutable open-addressing map from an IPv4 endpoint key ({@code ip << 16 | port},
 * see {@link #key}) to a {@link Route}. Built once, read by every worker without
 * synchronisation; a lookup allocates nothing and is O(1) expected (load factor at
 * most 0.5, linear probing).
 */
final class Ipv4RouteMap {
    /** No endpoint has port 0, so key 0 marks an empty slot. */
    private static final long EMPTY = 0L;

    private final long[] keys;
    private final Route[] values;
    private final int mask;

    Ipv4RouteMap(long[] entryKeys, Route[] entryValues, int count) {
        int capacity = Integer.highestOneBit(Math.max(4, count * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new Route[capacity];
        mask = capacity - 1;
        for (int i = 0; i < count; i++) {
            long key = entryKeys[i];
            int slot = slot(key);
            while (keys[slot] != EMPTY) {
                if (keys[slot] == key) {
                    throw new IllegalArgumentException("duplicate endpoint key " + key);
                }
                slot = (slot + 1) & mask;
            }
            keys[slot] = key;
            values[slot] = entryValues[i];
        }
    }

    /** The key of an IPv4 address (as {@code Inet4Address.hashCode()} gives it) and port. */
    static long key(int ipv4, int port) {
        return ((ipv4 & 0xFFFFFFFFL) << 16) | (port & 0xFFFF);
    }

    Route get(long key) {
        int slot = slot(key);
        long k;
        while ((k = keys[slot]) != EMPTY) {
            if (k == key) {
                return values[slot];
            }
            slot = (slot + 1) & mask;
        }
        return null;
    }

    private int slot(long key) {
        // Murmur3 finaliser: spreads the port and low address bits over the table.
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (int) h & mask;
    }
}
