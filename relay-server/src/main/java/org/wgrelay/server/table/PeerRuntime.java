package org.wgrelay.server.table;

import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.wire.Mac1;

/**
 * What lives as long as a peer, across forwarding-table rebuilds: its counters, its
 * roaming slot, the MAC1 key of its stamped public key (derived once per key, when the
 * key is stamped — never per packet), its session index (SPEC B) and the rings bounding
 * its own entries in its partners' indices.
 */
public final class PeerRuntime {
    /** Ids are never reused in a process, so a session entry can never name a later peer. */
    private static final AtomicInteger NEXT_ID = new AtomicInteger();

    private final int id = NEXT_ID.incrementAndGet();
    private final PeerStats stats;
    private final RoamingSlot roaming = new RoamingSlot();
    private volatile SessionIndex sessions = SessionIndex.forPartners(1);
    /** By partner id; changed only by the table builder. */
    private final Map<Integer, SessionRing> ringsTowards = new HashMap<>();

    private String keyedFor;
    private byte[] mac1Key;

    public PeerRuntime(PeerStats stats) {
        this.stats = stats;
    }

    /** A positive number naming this peer in session indices; unique for the process. */
    public int id() {
        return id;
    }

    /** The indices this peer's partners sent it (SPEC B). */
    public SessionIndex sessions() {
        return sessions;
    }

    /** Grows the session index for {@code partners} partners, keeping its live entries. Table builder only. */
    synchronized void sizeSessionsFor(int partners) {
        if (!sessions.fits(partners)) {
            sessions = sessions.grownFor(partners);
        }
    }

    /** The ring bounding this peer's entries in {@code partner}'s index. Table builder only. */
    synchronized SessionRing ringTowards(PeerRuntime partner) {
        return ringsTowards.computeIfAbsent(partner.id(), id -> new SessionRing());
    }

    /** Forgets the rings towards peers that are no longer partners. Table builder only. */
    synchronized void keepRingsTowards(Set<Integer> partnerIds) {
        ringsTowards.keySet().retainAll(partnerIds);
    }

    public PeerStats stats() {
        return stats;
    }

    public RoamingSlot roaming() {
        return roaming;
    }

    /** The MAC1 key for {@code pubkeyBase64} (null for none), derived only when the key changes. */
    public synchronized byte[] mac1Key(String pubkeyBase64) {
        if (pubkeyBase64 == null) {
            return null;
        }
        if (!pubkeyBase64.equals(keyedFor)) {
            mac1Key = Mac1.keyFor(Base64.getDecoder().decode(pubkeyBase64));
            keyedFor = pubkeyBase64;
        }
        return mac1Key;
    }
}
