package org.wgrelay.control.server;

import io.netty.channel.Channel;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;

/**
 * The open control connections, least recently useful first, and the choice of which one
 * to close when a new one arrives at the limit: the connection whose last complete request
 * (or, without one, whose accept) is oldest, a subscriber only when every connection is one.
 * A slow or idle client therefore goes before one that is asking questions, and the newest
 * connection — an operator's fresh {@code wg show} — is the last to go: it takes
 * {@code max} newer connections to push it out.
 *
 * <p>Event loop only (the listener and all its connections share one loop), so no locks.
 */
final class ConnectionSlots {
    private final int max;
    /** Non-subscribers in access order: {@link #used} moves a connection to the end. */
    private final LinkedHashMap<Channel, Boolean> byUse = new LinkedHashMap<>(64, 0.75f, true);

    private final LinkedHashSet<Channel> subscribers = new LinkedHashSet<>();

    ConnectionSlots(int max) {
        this.max = max;
    }

    /**
     * Takes a slot for {@code ch}; returns the connection to close to make room, or null
     * when there was room. The returned connection no longer holds a slot.
     */
    Channel admit(Channel ch) {
        Channel victim = null;
        if (size() >= max) {
            victim = oldest();
            remove(victim);
        }
        byUse.put(ch, Boolean.TRUE);
        return victim;
    }

    /** A complete request arrived on {@code ch}. */
    void used(Channel ch) {
        byUse.get(ch);
    }

    void subscribed(Channel ch) {
        if (byUse.remove(ch) != null) {
            subscribers.add(ch);
        }
    }

    void remove(Channel ch) {
        if (byUse.remove(ch) == null) {
            subscribers.remove(ch);
        }
    }

    int size() {
        return byUse.size() + subscribers.size();
    }

    private Channel oldest() {
        Iterator<Channel> it =
                byUse.isEmpty() ? subscribers.iterator() : byUse.keySet().iterator();
        return it.next();
    }
}
