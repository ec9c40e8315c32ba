package org.wgrelay.server.roster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registered peers and their links: an immutable value. Every change is a method
 * that validates first and returns a {@link RosterChange} holding either a new roster
 * or, on rejection, this one unchanged with a distinct {@link RosterOutcome}.
 *
 * <p>Invariants, held by every instance: peer names are unique; endpoints are unique;
 * every link joins two distinct registered peers; each peer is in at most one link
 * (so a source endpoint alone names the destination).
 */
public final class Roster {
    public static final Roster EMPTY = new Roster(new LinkedHashMap<>(), new ArrayList<>(), true);

    private final LinkedHashMap<String, PeerEntry> peers;
    private final List<Link> links;
    /** Indexes derived from {@code peers} and {@code links}, so lookups are O(1). */
    private final Map<Endpoint, String> nameByEndpoint = new HashMap<>();

    private final Map<String, Link> linkByName = new HashMap<>();
    /**
     * False only for the private working copy of {@link #builder()}, whose changes
     * apply in place so that loading n peers costs O(n), not O(n^2).
     */
    private boolean frozen;

    private Roster(LinkedHashMap<String, PeerEntry> peers, List<Link> links, boolean frozen) {
        this.peers = peers;
        this.links = links;
        this.frozen = frozen;
        for (PeerEntry p : peers.values()) {
            nameByEndpoint.put(p.endpoint(), p.name());
        }
        for (Link l : links) {
            linkByName.put(l.a(), l);
            linkByName.put(l.b(), l);
        }
    }

    /**
     * A working roster for loading many entries: apply changes through
     * {@link Builder#apply} and take the result with {@link Builder#build()}.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Applies changes in place; used by the roster file loader. Not thread-safe. */
    public static final class Builder {
        private Roster working = new Roster(new LinkedHashMap<>(), new ArrayList<>(), false);

        /** Runs one change against the working roster; on OK the change is kept. */
        public RosterChange apply(java.util.function.Function<Roster, RosterChange> change) {
            RosterChange result = change.apply(working);
            working = result.roster();
            return result;
        }

        public Roster build() {
            working.frozen = true;
            Roster done = working;
            working = null;
            return done;
        }
    }

    /** Peers in registration order. */
    public Collection<PeerEntry> peers() {
        return Collections.unmodifiableCollection(peers.values());
    }

    public List<Link> links() {
        return Collections.unmodifiableList(links);
    }

    public PeerEntry peer(String name) {
        return peers.get(name);
    }

    public int peerCount() {
        return peers.size();
    }

    public int linkCount() {
        return links.size();
    }

    /** The link this peer is in, or null. */
    public Link linkOf(String name) {
        return linkByName.get(name);
    }

    /** The name of the peer linked to {@code name}, or null. */
    public String partnerOf(String name) {
        Link link = linkOf(name);
        return link == null ? null : link.partnerOf(name);
    }

    public PeerEntry peerAt(Endpoint endpoint) {
        String name = nameByEndpoint.get(endpoint);
        return name == null ? null : peers.get(name);
    }

    // ---- changes ------------------------------------------------------------------

    public RosterChange addPeer(String name, Endpoint endpoint, String pubkey, String label) {
        String bad = RosterNames.checkName(name);
        if (bad != null) {
            return reject(RosterOutcome.INVALID_ARG, bad);
        }
        if (endpoint == null) {
            return reject(RosterOutcome.INVALID_ARG, "endpoint is required");
        }
        bad = RosterNames.checkLabel(label);
        if (bad != null) {
            return reject(RosterOutcome.INVALID_ARG, bad);
        }
        String key = null;
        if (pubkey != null) {
            key = RosterNames.canonicalPubkey(pubkey);
            if (key == null) {
                return reject(RosterOutcome.INVALID_PUBKEY, "public key must be base64 of 32 bytes");
            }
        }
        if (peers.containsKey(name)) {
            return reject(RosterOutcome.PEER_DUPLICATE, "peer '" + name + "' already exists");
        }
        PeerEntry holder = peerAt(endpoint);
        if (holder != null) {
            return reject(
                    RosterOutcome.ENDPOINT_IN_USE,
                    "endpoint " + endpoint + " is already registered to peer '" + holder.name() + "'");
        }
        Roster next = derive();
        next.putPeer(new PeerEntry(name, endpoint, key, RosterNames.normaliseLabel(label), null));
        return applied(next, "peer '" + name + "' added at " + endpoint);
    }

    public RosterChange updateEndpoint(String name, Endpoint endpoint) {
        PeerEntry peer = peers.get(name);
        if (peer == null) {
            return unknownPeer(name);
        }
        if (endpoint == null) {
            return reject(RosterOutcome.INVALID_ARG, "endpoint is required");
        }
        PeerEntry holder = peerAt(endpoint);
        if (holder != null && !holder.name().equals(name)) {
            return reject(
                    RosterOutcome.ENDPOINT_IN_USE,
                    "endpoint " + endpoint + " is already registered to peer '" + holder.name() + "'");
        }
        return replace(peer.withEndpoint(endpoint), "peer '" + name + "' moved to " + endpoint);
    }

    public RosterChange setPubkey(String name, String pubkeyBase64) {
        PeerEntry peer = peers.get(name);
        if (peer == null) {
            return unknownPeer(name);
        }
        String key = RosterNames.canonicalPubkey(pubkeyBase64);
        if (key == null) {
            return reject(RosterOutcome.INVALID_PUBKEY, "public key must be base64 of 32 bytes");
        }
        return replace(peer.withPubkey(key), "peer '" + name + "' public key set");
    }

    /** Pins the peer's XDP egress NIC, or clears the pin when {@code nic} is null. */
    public RosterChange setNic(String name, String nic) {
        PeerEntry peer = peers.get(name);
        if (peer == null) {
            return unknownPeer(name);
        }
        if (nic != null) {
            String bad = RosterNames.checkNic(nic);
            if (bad != null) {
                return reject(RosterOutcome.INVALID_ARG, bad);
            }
        }
        return replace(
                peer.withNic(nic),
                nic == null ? "peer '" + name + "' NIC pin cleared" : "peer '" + name + "' pinned to " + nic);
    }

    /** Removes the peer and its link, if any. */
    public RosterChange removePeer(String name) {
        if (!peers.containsKey(name)) {
            return unknownPeer(name);
        }
        Roster next = derive();
        Link link = next.linkByName.get(name);
        if (link != null) {
            next.dropLink(link);
        }
        next.nameByEndpoint.remove(next.peers.remove(name).endpoint());
        return applied(next, "peer '" + name + "' removed");
    }

    /** Checks in SPEC's order: self, unknown, duplicate, limit. */
    public RosterChange addLink(String a, String b) {
        if (a != null && a.equals(b)) {
            return reject(RosterOutcome.LINK_SELF, "a peer cannot be linked to itself");
        }
        for (String n : new String[] {a, b}) {
            if (n == null || !peers.containsKey(n)) {
                return unknownPeer(n);
            }
        }
        Link ofA = linkOf(a);
        if (ofA != null && ofA.joins(a, b)) {
            return reject(RosterOutcome.LINK_DUPLICATE, "'" + a + "' and '" + b + "' are already linked");
        }
        for (String n : new String[] {a, b}) {
            Link existing = linkOf(n);
            if (existing != null) {
                return reject(
                        RosterOutcome.LINK_LIMIT_EXCEEDED,
                        "each peer can be in at most one link, so the destination is unambiguous from the source"
                                + " endpoint; '" + n + "' is already linked to '" + existing.partnerOf(n) + "'");
            }
        }
        Roster next = derive();
        Link link = new Link(a, b);
        next.links.add(link);
        next.linkByName.put(a, link);
        next.linkByName.put(b, link);
        return applied(next, "'" + a + "' and '" + b + "' linked");
    }

    /** Accepts the names in either order. */
    public RosterChange removeLink(String a, String b) {
        Link link = a == null ? null : linkOf(a);
        if (link == null || !link.joins(a, b)) {
            return reject(
                    RosterOutcome.LINK_UNKNOWN,
                    "there is no link between '" + RosterNames.printable(a) + "' and '" + RosterNames.printable(b)
                            + "'");
        }
        Roster next = derive();
        next.dropLink(link);
        return applied(next, "link between '" + a + "' and '" + b + "' removed");
    }

    private RosterChange replace(PeerEntry updated, String message) {
        Roster next = derive();
        next.nameByEndpoint.remove(next.peers.get(updated.name()).endpoint());
        next.putPeer(updated);
        return applied(next, message);
    }

    /**
     * This roster when it is a builder's working copy, else a fresh copy to change.
     * A copy is changed only inside the method that made it and sealed by
     * {@link #applied} before anyone else sees it.
     */
    private Roster derive() {
        return frozen ? new Roster(new LinkedHashMap<>(peers), new ArrayList<>(links), false) : this;
    }

    private RosterChange applied(Roster next, String message) {
        next.frozen = frozen;
        return RosterChange.ok(next, message);
    }

    private void putPeer(PeerEntry peer) {
        peers.put(peer.name(), peer);
        nameByEndpoint.put(peer.endpoint(), peer.name());
    }

    private void dropLink(Link link) {
        links.remove(link);
        linkByName.remove(link.a());
        linkByName.remove(link.b());
    }

    private RosterChange unknownPeer(String name) {
        return reject(RosterOutcome.PEER_UNKNOWN, "no peer named '" + RosterNames.printable(name) + "'");
    }

    private RosterChange reject(RosterOutcome outcome, String message) {
        return RosterChange.rejected(this, outcome, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Roster && ((Roster) o).peers.equals(peers) && ((Roster) o).links.equals(links);
    }

    @Override
    public int hashCode() {
        return peers.hashCode() * 31 + links.hashCode();
    }

    @Override
    public String toString() {
        return "Roster" + peers.values() + links;
    }
}
