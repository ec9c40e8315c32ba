package org.wgrelay.server.table;

import java.net.InetSocketAddress;
import org.wgrelay.server.roster.PeerEntry;

/**
 * One end a route can send to: a link partner of the route's peer, with everything the
 * forward path needs precomputed when the table is built — the address to send to, the
 * MAC1 key of the partner's stamped public key, and the ring that bounds how many of the
 * route's own session indices the partner's {@link SessionIndex} holds. Immutable.
 */
public final class Partner {
    private final PeerEntry peer;
    private final PeerRuntime runtime;
    private final InetSocketAddress address;
    private final byte[] mac1Key;
    private final SessionRing ring;

    Partner(PeerEntry peer, PeerRuntime runtime, SessionRing ring) {
        this.peer = peer;
        this.runtime = runtime;
        this.address = peer.endpoint() == null ? null : peer.endpoint().socketAddress();
        this.mac1Key = runtime.mac1Key(peer.pubkey());
        this.ring = ring;
    }

    public PeerEntry peer() {
        return peer;
    }

    public PeerRuntime runtime() {
        return runtime;
    }

    /**
     * The partner's committed endpoint, as the preallocated address to send to; null while the
     * relay has yet to learn it (SPEC E: its candidate stands in).
     */
    public InetSocketAddress address() {
        return address;
    }

    /** MAC1 key of the partner's stamped key (SPEC rule 5, hub routing), or null. */
    public byte[] mac1Key() {
        return mac1Key;
    }

    /**
     * The sender's indices held in this partner's session index: SPEC B keeps at most
     * {@link SessionIndex#PER_PEER_AND_PARTNER} per peer and partner, the oldest replaced.
     */
    public SessionRing ring() {
        return ring;
    }

    @Override
    public String toString() {
        return peer.name() + "@" + peer.endpoint();
    }
}
