package org.wgrelay.server.table;

import java.net.InetSocketAddress;
import java.util.List;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.PeerEntry;

/**
 * What the forward path needs to know about one source endpoint, precomputed when the
 * forwarding table is built so that a packet costs one lookup and no allocation.
 * Immutable; shared by all workers. The runtimes it points to outlive the table.
 *
 * <p>A route has zero, one or (a hub, SPEC B) several {@link Partner}s. With exactly one
 * the partner accessors below name it and every datagram goes there; a hub's datagrams
 * find theirs by MAC1 or by session index, through {@link #partnerById}.
 */
public final class Route {
    private final PeerEntry peer;
    private final PeerRuntime runtime;
    private final byte[] mac1Key;
    private final Partner[] partners;
    /** The partner when there is exactly one, else null. */
    private final Partner sole;
    /** Open-addressed partner ids and the partners at the same positions; length a power of two. */
    private final int[] idSlots;

    private final Partner[] partnerSlots;

    Route(PeerEntry peer, PeerRuntime runtime, Partner[] partners) {
        this.peer = peer;
        this.runtime = runtime;
        this.mac1Key = runtime.mac1Key(peer.pubkey());
        this.partners = partners;
        this.sole = partners.length == 1 ? partners[0] : null;
        int size = Integer.highestOneBit(Math.max(1, partners.length) * 4 - 1) << 1;
        this.idSlots = new int[size];
        this.partnerSlots = new Partner[size];
        for (Partner p : partners) {
            int slot = p.runtime().id() & (size - 1);
            while (idSlots[slot] != 0) {
                slot = (slot + 1) & (size - 1);
            }
            idSlots[slot] = p.runtime().id();
            partnerSlots[slot] = p;
        }
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

    /** True when the peer is in at least one link. */
    public boolean linked() {
        return partners.length > 0;
    }

    /** True when the peer is in two or more links (SPEC B: a hub). */
    public boolean isHub() {
        return partners.length > 1;
    }

    /** The one partner of a peer in exactly one link; null without a link and for a hub. */
    public Partner solePartner() {
        return sole;
    }

    /** Every partner, in link order (cold path). */
    public List<Partner> partners() {
        return List.of(partners);
    }

    /** How many partners. */
    public int partnerCount() {
        return partners.length;
    }

    /** The i-th partner (0 &lt;= i &lt; {@link #partnerCount()}): a hub's MAC1 search. */
    public Partner partner(int i) {
        return partners[i];
    }

    /** The partner whose runtime has id {@code id}, or null when that peer is not a partner. O(1). */
    public Partner partnerById(int id) {
        int mask = idSlots.length - 1;
        for (int slot = id & mask; ; slot = (slot + 1) & mask) {
            int at = idSlots[slot];
            if (at == id) {
                return partnerSlots[slot];
            }
            if (at == 0) {
                return null;
            }
        }
    }

    /** The sole partner's entry, or null (no link, or a hub). */
    public PeerEntry partner() {
        return sole == null ? null : sole.peer();
    }

    /** The sole partner's runtime, or null (no link, or a hub). */
    public PeerRuntime partnerRuntime() {
        return sole == null ? null : sole.runtime();
    }

    /** The sole partner's endpoint as the preallocated address to send to, or null (no link, or a hub). */
    public InetSocketAddress partnerAddress() {
        return sole == null ? null : sole.address();
    }

    /** MAC1 key of the sole partner's stamped key (rule 5), or null. */
    public byte[] partnerMac1Key() {
        return sole == null ? null : sole.mac1Key();
    }

    @Override
    public String toString() {
        return peer.name() + "@" + peer.endpoint() + " -> "
                + (partners.length == 0
                        ? "(no link)"
                        : sole != null ? sole.toString() : List.of(partners).toString());
    }
}
