package org.wgrelay.server.table;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The last {@link SessionIndex#PER_PEER_AND_PARTNER} session keys one peer left in one
 * partner's {@link SessionIndex}: SPEC B's bound per peer and partner. Pushing a new key
 * hands back the one it replaces, which the index then forgets. Lock-free: a peer's
 * handshakes may be forwarded by several workers at once.
 *
 * <p>Lives as long as the link direction (held by the sender's {@link PeerRuntime}), so a
 * table rebuild keeps the bound.
 */
public final class SessionRing {
    private final AtomicLongArray keys = new AtomicLongArray(SessionIndex.PER_PEER_AND_PARTNER);
    private final AtomicInteger next = new AtomicInteger();

    /** True when {@code key} is one of the ring's. */
    boolean contains(long key) {
        for (int i = 0; i < keys.length(); i++) {
            if (keys.get(i) == key) {
                return true;
            }
        }
        return false;
    }

    /** Adds {@code key} over the oldest; returns the key it replaced, or 0. */
    long push(long key) {
        int at = next.getAndIncrement() & (keys.length() - 1);
        return keys.getAndSet(at, key);
    }
}
