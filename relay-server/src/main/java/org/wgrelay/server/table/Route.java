package org.wgrelay.server.table;

import java.net.InetSocketAddress;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.PeerEntry;

/**
 * What the forward path needs to know about one source endpoint, precomputed when the
 * forwarding table is built so that a packet costs one lookup and no allocation.
 * Immutable; shared by all workers. The runtimes it points to outlive the table.
 */
public final class Route {
    private final PeerEntry peer;
    private final PeerRuntime runtime;
    private final byte[] mac1Key;
    private final PeerEntry partner;
    private final PeerRuntime partnerRuntime;
    private final InetSocketAddress partnerAddress;
    private final byte[] partnerMac1Key;

    Route(PeerEntry peer, PeerRuntime runtime, PeerEntry partner, PeerRuntime partnerRuntime) {
        this.peer = peer;
        this.runtime = runtime;
        this.mac1Key = runtime.mac1Key(peer.pubkey());
        this.partner = partner;
        this.partnerRuntime = partnerRuntime;
        this.partnerAddress = partner == null ? null : partner.endpoint().socketAddress();
        this.partnerMac1Key = partner == null ? null : partnerRuntime.mac1Key(partner.pubkey());
    }

    /** The registered peer whose endpoint this route is keyed by. */
    public PeerEntry peer() {
        return peer;
    }

    public PeerRuntime runtime() {
        return runtime;
    }

    /** The peer's counters, the same instance across table rebuilds. */
    public PeerStats stats() {
        return runtime.stats();
    }

    /** MAC1 key of this peer's own stamped key (handshakes addressed to it), or null. */
    public byte[] mac1Key() {
        return mac1Key;
    }

    /** The link partner, or null when the peer has no link. */
    public PeerEntry partner() {
        return partner;
    }

    /** The partner's runtime, or null without a link. */
    public PeerRuntime partnerRuntime() {
        return partnerRuntime;
    }

    /** The partner's endpoint as the preallocated address to send to; null without a link. */
    public InetSocketAddress partnerAddress() {
        return partnerAddress;
    }

    /** MAC1 key of the partner's stamped key (rule 5), or null when it has none or no link. */
    public byte[] partnerMac1Key() {
        return partnerMac1Key;
    }

    public boolean linked() {
        return partner != null;
    }

    @Override
    public String toString() {
        return peer.name() + "@" + peer.endpoint() + " -> "
                + (partner == null ? "(no link)" : partner.name() + "@" + partner.endpoint());
    }
}
