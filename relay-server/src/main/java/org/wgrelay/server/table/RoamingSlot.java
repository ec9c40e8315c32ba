package org.wgrelay.server.table;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One peer's roaming state: its current candidate (at most one) and when it last
 * relearned. Lives as long as the peer (see {@link PeerRuntime}); the forward path reads
 * {@link #candidate()} — one volatile read, null in the common case.
 *
 * <p>Only the roaming engine writes a slot, and only by compare-and-set, so workers that
 * race to register a candidate for the same peer never take a lock: one wins. Every
 * candidate in a slot is therefore one of the engine's own.
 *
 * <p>A hub's slot also holds its unidentified candidates (SPEC B): initiations from unknown
 * sources whose MAC1 named the hub, waiting for the hub's response to say which spoke sent
 * them. At most {@link #MAX_UNIDENTIFIED}, in places claimed by compare-and-set; the array is
 * made on the first one, so only hubs that see roaming pay for it.
 */
public final class RoamingSlot {
    /** SPEC B: at most 64 unidentified candidates per hub. */
    public static final int MAX_UNIDENTIFIED = 64;

    private static final VarHandle CANDIDATE;
    private static final VarHandle UNIDENTIFIED;

    static {
        try {
            CANDIDATE = MethodHandles.lookup().findVarHandle(RoamingSlot.class, "candidate", RoamingCandidate.class);
            UNIDENTIFIED =
                    MethodHandles.lookup().findVarHandle(RoamingSlot.class, "unidentified", AtomicReferenceArray.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Slots holding a candidate, process-wide: while it is 0 the forward path reads no slot
     * at all (with a thousand spokes those reads are cache misses on every datagram). Counted
     * on every null/non-null change, so it is never 0 while a slot holds one; shared by every
     * relay in the process, which only makes it check more often.
     */
    private static final AtomicInteger OCCUPIED = new AtomicInteger();

    private volatile RoamingCandidate candidate;
    private volatile long lastRelearnMillis = Long.MIN_VALUE / 2;
    private volatile AtomicReferenceArray<RoamingCandidate> unidentified;
    /** SPEC E: the last initiation forwarded to this peer, {@code partner id << 32 | sender index}; 0: none. */
    private volatile long lastPartnerInitiation;

    private final AtomicInteger unidentifiedCount = new AtomicInteger();

    public RoamingCandidate candidate() {
        return candidate;
    }

    /** Puts {@code next} in the slot if it still holds {@code expected}; true when it did. */
    public boolean replace(RoamingCandidate expected, RoamingCandidate next) {
        if (expected == null && next != null) {
            OCCUPIED.incrementAndGet(); // before it is visible, so the gate never hides it
            if (!CANDIDATE.compareAndSet(this, null, next)) {
                OCCUPIED.decrementAndGet();
                return false;
            }
            return true;
        }
        boolean done = CANDIDATE.compareAndSet(this, expected, next);
        if (done && expected != null && next == null) {
            OCCUPIED.decrementAndGet();
        }
        return done;
    }

    /** False when no slot in the process holds a candidate: one volatile read for the forward path. */
    public static boolean anyOccupied() {
        return OCCUPIED.get() != 0;
    }

    /** Clears the slot if it still holds {@code c}. */
    public void clear(RoamingCandidate c) {
        replace(c, null);
    }

    /** True when the slot holds unidentified candidates: one volatile read on the forward path. */
    public boolean hasUnidentified() {
        return unidentifiedCount.get() > 0;
    }

    /** The i-th unidentified place (0 &lt;= i &lt; {@link #MAX_UNIDENTIFIED}), or null. */
    public RoamingCandidate unidentifiedAt(int i) {
        AtomicReferenceArray<RoamingCandidate> places = unidentified;
        return places == null ? null : places.get(i);
    }

    /** Takes a free place for {@code c}; false when all 64 are taken. */
    public boolean addUnidentified(RoamingCandidate c) {
        AtomicReferenceArray<RoamingCandidate> places = unidentified;
        if (places == null) {
            UNIDENTIFIED.compareAndSet(this, null, new AtomicReferenceArray<RoamingCandidate>(MAX_UNIDENTIFIED));
            places = unidentified;
        }
        for (int i = 0; i < MAX_UNIDENTIFIED; i++) {
            if (places.get(i) == null && places.compareAndSet(i, null, c)) {
                unidentifiedCount.incrementAndGet();
                return true;
            }
        }
        return false;
    }

    /** Frees {@code c}'s place, if it still has one. */
    public void clearUnidentified(RoamingCandidate c) {
        AtomicReferenceArray<RoamingCandidate> places = unidentified;
        if (places == null) {
            return;
        }
        for (int i = 0; i < MAX_UNIDENTIFIED; i++) {
            if (places.get(i) == c && places.compareAndSet(i, c, null)) {
                unidentifiedCount.decrementAndGet();
                return;
            }
        }
    }

    /** A partner's initiation with {@code senderIndex} was forwarded to this peer (SPEC E's responder learning). */
    public void partnerInitiated(int partnerId, int senderIndex) {
        long v = ((long) partnerId << 32) | Integer.toUnsignedLong(senderIndex);
        if (lastPartnerInitiation != v) {
            lastPartnerInitiation = v;
        }
    }

    /** The last initiation forwarded to this peer as one word (0: none); read it once, then decode. */
    public long lastPartnerInitiation() {
        return lastPartnerInitiation;
    }

    /** The id of the partner that sent {@code initiation} (a {@link #lastPartnerInitiation()} word). */
    public static int initiatingPartner(long initiation) {
        return (int) (initiation >>> 32);
    }

    /** The sender index of {@code initiation}. */
    public static int initiationIndex(long initiation) {
        return (int) initiation;
    }

    public long lastRelearnMillis() {
        return lastRelearnMillis;
    }

    /** A candidate of this peer was committed at {@code nowMillis} (starts the relearn hold-off). */
    public void relearned(long nowMillis) {
        lastRelearnMillis = nowMillis;
    }
}
