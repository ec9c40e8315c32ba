package org.wgrelay.server.table;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One peer's roaming state: its current candidate (at most one) and when it last
 * relearned. Lives as long as the peer (see {@link PeerRuntime}); the forward path reads
 * {@link #candidate()} — one volatile read, null in the common case.
 *
 * <p>Only the roaming engine writes a slot, and only by compare-and-set, so workers that
 * race to register a candidate for the same peer never take a lock: one wins. Every
 * candidate in a slot is therefore one of the engine's own.
 */
public final class RoamingSlot {
    private static final VarHandle CANDIDATE;

    static {
        try {
            CANDIDATE = MethodHandles.lookup().findVarHandle(RoamingSlot.class, "candidate", RoamingCandidate.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile RoamingCandidate candidate;
    private volatile long lastRelearnMillis = Long.MIN_VALUE / 2;

    public RoamingCandidate candidate() {
        return candidate;
    }

    /** Puts {@code next} in the slot if it still holds {@code expected}; true when it did. */
    public boolean replace(RoamingCandidate expected, RoamingCandidate next) {
        return CANDIDATE.compareAndSet(this, expected, next);
    }

    /** Clears the slot if it still holds {@code c}. */
    public void clear(RoamingCandidate c) {
        replace(c, null);
    }

    public long lastRelearnMillis() {
        return lastRelearnMillis;
    }

    /** A candidate of this peer was committed at {@code nowMillis} (starts the relearn hold-off). */
    public void relearned(long nowMillis) {
        lastRelearnMillis = nowMillis;
    }
}
