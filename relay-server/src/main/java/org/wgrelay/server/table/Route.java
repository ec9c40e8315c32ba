package org.wgrelay.server.table;

import java.net.InetSocketAddress;
import org.wgrelay.server.metrics.PeerStats;
import org.wgrelay.server.roster.PeerEntry;

/**
 * What the forward path needs to know about one source endpoint, precomputed when the
 * forwarding table is built so that a packet costs one lookup and no allocation.
 * Immutable; shared by all workers.
 */
public final class Route {
    private final PeerEntry peer;
    private final PeerStats stats;
    private final PeerEntry partner;
    private final InetSocketAddress partnerAddress;

    Route(PeerEntry peer, PeerStats stats, PeerEntry partner) {
        this.peer = peer;
        this.stats = stats;
        this.partner = partner;
        this.partnerAddress = partner == null ? null : partner.endpoint().socketAddress();
    }

    /** The registered peer whose endpoint this route is keyed by. */
    public PeerEntry peer() {
        return peer;
    }

    /** The peer's counters, the same instance across table rebuilds. */
    public PeerStats stats() {
        return stats;
    }

    /** The link partner, or null when the peer has no link. */
    public PeerEntry partner() {
        return partner;
    }

    /** The partner's endpoint as the preallocated address to send to; null without a link. */
    public InetSocketAddress partnerAddress() {
        return partnerAddress;
    }

    public boolean linked() {
        return partner != null;
    }

    @Override
    public String toString() {
        return peer.name() + "@" + peer.endpoint() + " -> " + (partner == null ? "(no link)" : partner.name() + "@" + partner.endpoint());
    }
}
