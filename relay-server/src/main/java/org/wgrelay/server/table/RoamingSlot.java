package org.wgrelay.server.table;

/**
 * One peer's roaming state: its current candidate (at most one) and when it last
 * relearned. Lives as long as the peer (see {@link PeerRuntime}); the forward path reads
 * {@link #candidate()} — one volatile read, null in the common case.
 *
 * <p>Only the roaming engine writes a slot (it synchronizes on the slot to register a
 * candidate), so every candidate in a slot is one of the engine's own.
 */
public final class RoamingSlot {
    private volatile RoamingCandidate candidate;
    private volatile long lastRelearnMillis = Long.MIN_VALUE / 2;

    public RoamingCandidate candidate() {
        return candidate;
    }

    /** Puts {@code c} in the slot. Roaming engine only, holding the slot's monitor. */
    public void candidate(RoamingCandidate c) {
        candidate = c;
    }

    /** Clears the slot if it still holds {@code c}. */
    public synchronized void clear(RoamingCandidate c) {
        if (candidate == c) {
            candidate = null;
        }
    }

    public long lastRelearnMillis() {
        return lastRelearnMillis;
    }

    /** A candidate of this peer was committed at {@code nowMillis} (starts the relearn hold-off). */
    public void relearned(long nowMillis) {
        lastRelearnMillis = nowMillis;
    }
}
