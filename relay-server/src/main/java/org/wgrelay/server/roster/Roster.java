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
 * <p>Invariants, held by every instance: peer names are unique; endpoints, where known,
 * are unique (SPEC E: a peer may have none yet, and then needs a stamped key to be linked);
 * every link joins two distinct registered peers; each peer is in at most
 * {@link #maxLinksPerPeer()} links (SPEC B; 1 by default, so a source endpoint alone
 * names the destination); a peer in two or more links (a hub) and all its partners have
 * stamped public keys.
 */
public final class Roster {
    /** SPEC B: {@code --max-links-per-peer} is at most this. */
    public static final int MAX_LINKS_PER_PEER_LIMIT = 1024;

    public static final Roster EMPTY = new Roster(new LinkedHashMap<>(), new ArrayList<>(), 1, true);

    private final LinkedHashMap<String, PeerEntry> peers;
    private final List<Link> links;
    private final int maxLinksPerPeer;
    /** Indexes derived from {@code peers} and {@code links}, so lookups are O(1). */
    private final Map<Endpoint, String> nameByEndpoint = new HashMap<>();

    /** Each peer's links in the order they were made; a peer without links has no entry. */
    private final Map<String, List<Link>> linksByName = new HashMap<>();
    /**
     * False only for the private working copy of {@link #builder()}, whose changes
     * apply in place so that loading n peers costs O(n), not O(n^2).
     */
    private boolean frozen;

    private Roster(LinkedHashMap<String, PeerEntry> peers, List<Link> links, int maxLinksPerPeer, boolean frozen) {
        this.peers = peers;
        this.links = links;
        this.maxLinksPerPeer = maxLinksPerPeer;
        this.frozen = frozen;
        for (PeerEntry p : peers.values()) {
            if (p.endpoint() != null) {
                nameByEndpoint.put(p.endpoint(), p.name());
            }
        }
        for (Link l : links) {
            indexLink(l);
        }
    }

    /**
     * An empty roster whose peers may each be in up to {@code maxLinksPerPeer} links
     * (SPEC B, {@code --max-links-per-peer}); 1 gives {@link #EMPTY}.
     */
    public static Roster empty(int maxLinksPerPeer) {
        checkLimit(maxLinksPerPeer);
        return maxLinksPerPeer == 1
                ? EMPTY
                : new Roster(new LinkedHashMap<>(), new ArrayList<>(), maxLinksPerPeer, true);
    }

    private static void checkLimit(int maxLinksPerPeer) {
        if (maxLinksPerPeer < 1 || maxLinksPerPeer > MAX_LINKS_PER_PEER_LIMIT) {
            throw new IllegalArgumentException(
                    "max links per peer must be 1.." + MAX_LINKS_PER_PEER_LIMIT + ", not " + maxLinksPerPeer);
        }
    }

    /**
     * A working roster for loading many entries: apply changes through
     * {@link Builder#apply} and take the result with {@link Builder#build()}.
     */
    public static Builder builder() {
        return builder(1);
    }

    /** As {@link #builder()}, for a relay whose peers may be in up to {@code maxLinksPerPeer} links. */
    public static Builder builder(int maxLinksPerPeer) {
        checkLimit(maxLinksPerPeer);
        return new Builder(maxLinksPerPeer);
    }

    /** Applies changes in place; used by the roster file loader. Not thread-safe. */
    public static final class Builder {
        private Roster working;

        private Builder(int maxLinksPerPeer) {
            working = new Roster(new LinkedHashMap<>(), new ArrayList<>(), maxLinksPerPeer, false);
        }

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

    /** How many links one peer may be in (SPEC B, {@code --max-links-per-peer}). */
    public int maxLinksPerPeer() {
        return maxLinksPerPeer;
    }

    /** How many links {@code name} is in. */
    public int linkCountOf(String name) {
        List<Link> of = linksByName.get(name);
        return of == null ? 0 : of.size();
    }

    /** True when {@code name} is in two or more links (SPEC B: a hub). */
    public boolean isHub(String name) {
        return linkCountOf(name) >= 2;
    }

    /**
     * The name of the one peer linked to {@code name}; null without a link and for a hub,
     * which has no single partner ({@code linked_to} in {@code wg peer list}).
     */
    public String partnerOf(String name) {
        List<Link> of = linksByName.get(name);
        return of == null || of.size() != 1 ? null : of.get(0).partnerOf(name);
    }

    /** The names of all of {@code name}'s partners, sorted ({@code links} in {@code wg peer list}). */
    public List<String> partnersOf(String name) {
        List<Link> of = linksByName.get(name);
        if (of == null) {
            return List.of();
        }
        List<String> names = new ArrayList<>(of.size());
        for (Link l : of) {
            names.add(l.partnerOf(name));
        }
        Collections.sort(names);
        return names;
    }

    /** The link between {@code a} and {@code b} in either order, or null. O(links of the smaller end). */
    public Link linkBetween(String a, String b) {
        List<Link> ofA = a == null ? null : linksByName.get(a);
        List<Link> ofB = b == null ? null : linksByName.get(b);
        List<Link> of = ofA == null || ofB == null ? null : ofA.size() <= ofB.size() ? ofA : ofB;
        if (of != null) {
            for (Link l : of) {
                if (l.joins(a, b)) {
                    return l;
                }
            }
        }
        return null;
    }

    public PeerEntry peerAt(Endpoint endpoint) {
        String name = endpoint == null ? null : nameByEndpoint.get(endpoint);
        return name == null ? null : peers.get(name);
    }

    // ---- changes ------------------------------------------------------------------

    public RosterChange addPeer(String name, Endpoint endpoint, String pubkey, String label) {
        String bad = RosterNames.checkName(name);
        if (bad != null) {
            return reject(RosterOutcome.INVALID_ARG, bad);
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
        return applied(
                next,
                endpoint == null
                        ? "peer '" + name + "' added without an endpoint: the relay learns it (SPEC E)"
                        : "peer '" + name + "' added at " + endpoint);
    }

    /** Moves the peer to {@code endpoint}, or with null forgets its endpoint (SPEC E: learned again). */
    public RosterChange updateEndpoint(String name, Endpoint endpoint) {
        PeerEntry peer = peers.get(name);
        if (peer == null) {
            return unknownPeer(name);
        }
        if (endpoint == null) {
            return replace(peer.withEndpoint(null), "peer '" + name + "' endpoint forgotten: the relay learns it");
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

    /** Removes the peer and its links, if any. */
    public RosterChange removePeer(String name) {
        if (!peers.containsKey(name)) {
            return unknownPeer(name);
        }
        Roster next = derive();
        List<Link> of = next.linksByName.get(name);
        if (of != null) {
            for (Link link : List.copyOf(of)) {
                next.dropLink(link);
            }
        }
        Endpoint gone = next.peers.remove(name).endpoint();
        if (gone != null) {
            next.nameByEndpoint.remove(gone);
        }
        return applied(next, "peer '" + name + "' removed");
    }

    /**
     * Checks in SPEC's order: self, unknown, duplicate, limit, then (SPEC B) the stamped keys
     * a hub's routing needs.
     */
    public RosterChange addLink(String a, String b) {
        if (a != null && a.equals(b)) {
            return reject(RosterOutcome.LINK_SELF, "a peer cannot be linked to itself");
        }
        for (String n : new String[] {a, b}) {
            if (n == null || !peers.containsKey(n)) {
                return unknownPeer(n);
            }
        }
        if (linkBetween(a, b) != null) {
            return reject(RosterOutcome.LINK_DUPLICATE, "'" + a + "' and '" + b + "' are already linked");
        }
        for (String n : new String[] {a, b}) {
            List<Link> of = linksByName.get(n);
            if (of != null && of.size() >= maxLinksPerPeer) {
                return reject(RosterOutcome.LINK_LIMIT_EXCEEDED, limitMessage(n, of));
            }
        }
        for (String n : new String[] {a, b}) {
            PeerEntry p = peers.get(n);
            if (p.endpoint() == null && p.pubkey() == null) {
                return reject(
                        RosterOutcome.PUBKEY_REQUIRED,
                        "'" + n + "' has no endpoint, so the relay learns it by MAC1: stamp its public key first"
                                + " (wg peer pubkey)");
            }
        }
        for (String n : new String[] {a, b}) {
            String missing = missingKeyForHub(n, n.equals(a) ? b : a);
            if (missing != null) {
                return reject(
                        RosterOutcome.PUBKEY_REQUIRED,
                        "'" + n + "' would be in " + (linkCountOf(n) + 1) + " links, and the relay routes a hub's"
                                + " handshakes by MAC1: '" + missing + "' needs a stamped public key first"
                                + " (wg peer pubkey)");
            }
        }
        Roster next = derive();
        Link link = new Link(a, b);
        next.links.add(link);
        next.indexLink(link);
        return applied(next, "'" + a + "' and '" + b + "' linked");
    }

    private String limitMessage(String name, List<Link> of) {
        if (maxLinksPerPeer == 1) {
            return "each peer can be in at most one link, so the destination is unambiguous from the source"
                    + " endpoint; '" + name + "' is already linked to '"
                    + of.get(0).partnerOf(name) + "'";
        }
        return "each peer can be in at most " + maxLinksPerPeer + " links (--max-links-per-peer); '" + name
                + "' is already in " + of.size();
    }

    /**
     * When linking {@code name} to {@code newPartner} would make {@code name} a hub: the
     * first of the hub and its partners-to-be without a stamped key, else null.
     */
    private String missingKeyForHub(String name, String newPartner) {
        if (linkCountOf(name) < 1) {
            return null; // stays a single-link peer
        }
        List<String> involved = new ArrayList<>();
        involved.add(name);
        involved.addAll(partnersOf(name));
        involved.add(newPartner);
        for (String n : involved) {
            if (peers.get(n).pubkey() == null) {
                return n;
            }
        }
        return null;
    }

    /** Accepts the names in either order. */
    public RosterChange removeLink(String a, String b) {
        Link link = linkBetween(a, b);
        if (link == null) {
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
        Endpoint old = next.peers.get(updated.name()).endpoint();
        if (old != null) {
            next.nameByEndpoint.remove(old);
        }
        next.putPeer(updated);
        return applied(next, message);
    }

    /**
     * This roster when it is a builder's working copy, else a fresh copy to change.
     * A copy is changed only inside the method that made it and sealed by
     * {@link #applied} before anyone else sees it.
     */
    private Roster derive() {
        return frozen ? new Roster(new LinkedHashMap<>(peers), new ArrayList<>(links), maxLinksPerPeer, false) : this;
    }

    private RosterChange applied(Roster next, String message) {
        next.frozen = frozen;
        return RosterChange.ok(next, message);
    }

    private void putPeer(PeerEntry peer) {
        peers.put(peer.name(), peer);
        if (peer.endpoint() != null) {
            nameByEndpoint.put(peer.endpoint(), peer.name());
        }
    }

    private void indexLink(Link link) {
        linksByName.computeIfAbsent(link.a(), n -> new ArrayList<>(1)).add(link);
        linksByName.computeIfAbsent(link.b(), n -> new ArrayList<>(1)).add(link);
    }

    private void dropLink(Link link) {
        links.remove(link);
        for (String n : new String[] {link.a(), link.b()}) {
            List<Link> of = linksByName.get(n);
            of.remove(link);
            if (of.isEmpty()) {
                linksByName.remove(n);
            }
        }
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
