package org.wgrelay.server.table;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One peer's session index (SPEC B): the WireGuard sender indices its partners put in the
 * handshakes forwarded to it, each with the partner that sent it. When the peer is a hub,
 * its types 2, 3 and 4 name their destination only by such an index (the receiver index),
 * and this is where the forward path finds it.
 *
 * <p>An open-addressed table of primitive keys — {@code index << 32 | owner id} — each
 * beside the time it was last recorded, in one array, so a probe reads one cache line. Lookups and records probe a
 * bounded run of slots from the index's hash, so both cost O(1) whatever the number of
 * partners, allocate nothing and take no lock: workers race only through atomic slot
 * writes. Entries live {@link #TTL_MILLIS} after the handshake that made them; each
 * partner holds at most {@link #PER_PEER_AND_PARTNER} here (its {@link SessionRing}), so
 * the table never holds more than that many per partner and is sized four times that.
 *
 * <p>Two partners that pick the same index are told apart by the owner: a lookup returns
 * only an owner the caller still has as a partner. The hash is seeded per instance so a
 * partner cannot choose indices that crowd out another's.
 *
 * <p>Two records racing into the same empty slot within nanoseconds may lose one entry;
 * the handshake that made it is retried by WireGuard (after 5 s) and recorded then.
 *
 * <p>Owned by the peer's {@link PeerRuntime}, so it survives table rebuilds; the table
 * builder replaces it with a larger copy when the peer gains partners.
 */
public final class SessionIndex {
    /** SPEC B: an entry lives 300 s after the handshake that made it. */
    public static final long TTL_MILLIS = 300_000;
    /** SPEC B: at most 8 entries per peer and partner, the oldest replaced. */
    public static final int PER_PEER_AND_PARTNER = 8;

    private static final int MIN_CAPACITY = 64;
    /** Slots probed from an index's home slot; at a quarter full a run this long is never full by chance. */
    private static final int MAX_PROBES = 16;
    /** A removed entry: lookups probe past it, records reuse it. */
    private static final long TOMBSTONE = -1L;

    /** Slot i: the key at {@code 2i}, the time it was recorded at {@code 2i + 1}. */
    private final AtomicLongArray slots;

    private final int mask;
    private final int seed = ThreadLocalRandom.current().nextInt() | 1;
    /** Changes whenever an entry is added or removed: the XDP map sync compares it. */
    private final AtomicLong version = new AtomicLong();

    private SessionIndex(int capacity) {
        slots = new AtomicLongArray(2 * capacity);
        mask = capacity - 1;
    }

    /** An index sized for a peer with {@code partners} partners. */
    public static SessionIndex forPartners(int partners) {
        return new SessionIndex(capacityFor(partners));
    }

    static int capacityFor(int partners) {
        long wanted = 4L * PER_PEER_AND_PARTNER * Math.max(1, partners);
        int capacity = MIN_CAPACITY;
        while (capacity < wanted) {
            capacity <<= 1;
        }
        return capacity;
    }

    /** True when this index is big enough for {@code partners} partners. */
    boolean fits(int partners) {
        return capacity() >= capacityFor(partners);
    }

    static long key(int index, int ownerId) {
        return ((long) index << 32) | Integer.toUnsignedLong(ownerId);
    }

    static int indexOf(long key) {
        return (int) (key >>> 32);
    }

    static int ownerOf(long key) {
        return (int) key;
    }

    private int home(int index) {
        int h = (index ^ seed) * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    private static boolean live(long key) {
        return key != 0 && key != TOMBSTONE;
    }

    private boolean fresh(int slot, long nowMillis) {
        return nowMillis - recordedAt(slot) < TTL_MILLIS;
    }

    /**
     * Records that the partner {@code ownerId} sent a handshake with sender index
     * {@code senderIndex} to this index's peer, at {@code nowMillis}. {@code ring} is that
     * partner's ring for this peer: a ninth index pushes out the partner's oldest.
     */
    public void record(int senderIndex, int ownerId, SessionRing ring, long nowMillis) {
        long key = key(senderIndex, ownerId);
        if (!ring.contains(key)) {
            long replaced = ring.push(key);
            if (replaced != 0 && replaced != key) {
                remove(replaced);
            }
        }
        insert(key, nowMillis);
    }

    private void insert(long key, long nowMillis) {
        int start = home(indexOf(key));
        for (int p = 0; p < MAX_PROBES; p++) {
            int slot = (start + p) & mask;
            long k = keyAt(slot);
            if (k == key) {
                recordedAt(slot, nowMillis); // the same handshake seen again: refresh
                return;
            }
            if (k == 0) {
                break;
            }
        }
        int oldest = -1;
        long oldestAt = Long.MAX_VALUE;
        for (int p = 0; p < MAX_PROBES; p++) {
            int slot = (start + p) & mask;
            long k = keyAt(slot);
            if ((!live(k) || !fresh(slot, nowMillis)) && claim(slot, k, key)) {
                recordedAt(slot, nowMillis);
                version.incrementAndGet();
                return;
            }
            long at = recordedAt(slot);
            if (at < oldestAt) {
                oldestAt = at;
                oldest = slot;
            }
        }
        // Sixteen live entries in a row: only by design of an attacker. Displace the oldest.
        long k = keyAt(oldest);
        if (claim(oldest, k, key)) {
            recordedAt(oldest, nowMillis);
            version.incrementAndGet();
        }
    }

    private void remove(long key) {
        int start = home(indexOf(key));
        for (int p = 0; p < MAX_PROBES; p++) {
            int slot = (start + p) & mask;
            long k = keyAt(slot);
            if (k == 0) {
                return;
            }
            if (k == key && claim(slot, key, TOMBSTONE)) {
                version.incrementAndGet();
                return;
            }
        }
    }

    /**
     * The partner of {@code route} that owns the live entry for {@code receiverIndex}, or
     * null: an unknown or expired index, or one whose owner is no longer a partner.
     */
    public Partner lookup(int receiverIndex, Route route, long nowMillis) {
        int start = home(receiverIndex);
        for (int p = 0; p < MAX_PROBES; p++) {
            int slot = (start + p) & mask;
            long k = keyAt(slot);
            if (k == 0) {
                return null;
            }
            if (k != TOMBSTONE && indexOf(k) == receiverIndex && fresh(slot, nowMillis)) {
                Partner owner = route.partnerById(ownerOf(k));
                if (owner != null) {
                    return owner;
                }
            }
        }
        return null;
    }

    /** Visits every live entry (cold path: the XDP map sync, tests). */
    public void forEachLive(long nowMillis, EntryVisitor visitor) {
        for (int slot = 0; slot <= mask; slot++) {
            long k = keyAt(slot);
            if (live(k) && fresh(slot, nowMillis)) {
                visitor.visit(indexOf(k), ownerOf(k));
            }
        }
    }

    /** One live entry: the index and the id of the partner that sent it. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(int index, int ownerId);
    }

    /** Turns expired entries into tombstones (the owner thread's sweep); the XDP sync sees the change. */
    public void expire(long nowMillis) {
        for (int slot = 0; slot <= mask; slot++) {
            long k = keyAt(slot);
            if (live(k) && !fresh(slot, nowMillis) && claim(slot, k, TOMBSTONE)) {
                version.incrementAndGet();
            }
        }
    }

    /** A copy of this index's entries, with their times, in one sized for {@code partners} partners. */
    SessionIndex grownFor(int partners) {
        SessionIndex bigger = forPartners(partners);
        for (int slot = 0; slot <= mask; slot++) {
            long k = keyAt(slot);
            if (live(k)) {
                bigger.insert(k, recordedAt(slot));
            }
        }
        return bigger;
    }

    public long version() {
        return version.get();
    }

    int capacity() {
        return mask + 1;
    }

    private long keyAt(int slot) {
        return slots.get(2 * slot);
    }

    private boolean claim(int slot, long expected, long key) {
        return slots.compareAndSet(2 * slot, expected, key);
    }

    private long recordedAt(int slot) {
        return slots.get(2 * slot + 1);
    }

    private void recordedAt(int slot, long millis) {
        slots.set(2 * slot + 1, millis);
    }
}
