package org.wgrelay.server.roaming;

/**
 * One peer's roaming state: its current candidate (at most one) and when it last
 * relearned. Lives as long as the peer (see {@code PeerRuntime}); the forward path reads
 * {@link #candidate()} — one volatile read, null in the common case.
 */
public final class RoamingSlot {
    private volatile Candidate candidate;
    private volatile long lastRelearnMillis = Long.MIN_VALUE / 2;

    public Candidate candidate() {
        return candidate;
    }

    void candidate(Candidate c) {
        candidate = c;
    }

    /** Clears the slot if it still holds {@code c}. */
    synchronized void clear(Candidate c) {
        if (candidate == c) {
            candidate = null;
        }
    }

    long lastRelearnMillis() {
        return lastRelearnMillis;
    }

    void relearned(long nowMillis) {
        lastRelearnMillis = nowMillis;
    }
}
