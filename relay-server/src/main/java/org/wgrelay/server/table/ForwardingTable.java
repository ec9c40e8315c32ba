package org.wgrelay.server.table;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;

/**
 * The immutable source-endpoint → route table the forward path reads. Built from a
 * roster on every change and published as a whole (see {@link ForwardingTableHolder});
 * a worker reads the current table once per packet and never locks.
 *
 * <p>IPv4 endpoints are keyed by a primitive in {@link Ipv4RouteMap}; IPv6 endpoints
 * by their {@code InetSocketAddress}, whose hash and equality read the address bytes
 * in place, so neither lookup allocates.
 */
public final class ForwardingTable {
    public static final ForwardingTable EMPTY = build(Roster.EMPTY, name -> {
        throw new AssertionError("empty roster has no peers");
    });

    /** Gives a peer's runtime by name; the same object for the peer's lifetime. */
    @FunctionalInterface
    public interface RuntimeSource {
        PeerRuntime runtimeOf(String peerName);
    }

    private final Ipv4RouteMap ipv4;
    private final Map<InetSocketAddress, Route> ipv6;
    private final Map<String, Route> byName;
    private final Route[] keyed;
    private final Route[] hubs;
    private final int linkCount;

    private ForwardingTable(
            Ipv4RouteMap ipv4,
            Map<InetSocketAddress, Route> ipv6,
            Map<String, Route> byName,
            Route[] keyed,
            Route[] hubs,
            int links) {
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
        this.byName = byName;
        this.keyed = keyed;
        this.hubs = hubs;
        this.linkCount = links;
    }

    public static ForwardingTable build(Roster roster, RuntimeSource runtimes) {
        Collection<PeerEntry> peers = roster.peers();
        long[] keys = new long[peers.size()];
        Route[] routes = new Route[peers.size()];
        int v4 = 0;
        Map<InetSocketAddress, Route> v6 = new HashMap<>();
        Map<String, Route> byName = new HashMap<>();
        List<Route> keyed = new ArrayList<>();
        List<Route> hubs = new ArrayList<>();
        for (PeerEntry peer : peers) {
            PeerRuntime runtime = runtimes.runtimeOf(peer.name());
            List<String> partnerNames = roster.partnersOf(peer.name());
            Partner[] partners = new Partner[partnerNames.size()];
            Set<Integer> partnerIds = new HashSet<>();
            for (int i = 0; i < partners.length; i++) {
                PeerRuntime partnerRuntime = runtimes.runtimeOf(partnerNames.get(i));
                partners[i] = new Partner(
                        roster.peer(partnerNames.get(i)), partnerRuntime, runtime.ringTowards(partnerRuntime));
                partnerIds.add(partnerRuntime.id());
            }
            runtime.keepRingsTowards(partnerIds);
            runtime.sizeSessionsFor(partners.length);
            Route route = new Route(peer, runtime, partners);
            if (route.isHub()) {
                hubs.add(route);
            }
            byName.put(peer.name(), route);
            if (route.mac1Key() != null && route.linked()) {
                keyed.add(route);
            }
            Endpoint ep = peer.endpoint();
            if (ep == null) {
                continue; // SPEC E: no source to look up yet; reachable by name and as a partner
            }
            if (ep.isIpv4()) {
                keys[v4] = Ipv4RouteMap.key(ep.address().hashCode(), ep.port());
                routes[v4++] = route;
            } else {
                v6.put(ep.socketAddress(), route);
            }
        }
        return new ForwardingTable(
                new Ipv4RouteMap(keys, routes, v4),
                v6,
                byName,
                keyed.toArray(new Route[0]),
                hubs.toArray(new Route[0]),
                roster.linkCount());
    }

    /**
     * The route for a datagram's sender, or null for an unknown source. Allocates
     * nothing for IPv4 and IPv6 senders. An IPv4-mapped IPv6 sender (possible on a
     * dual-stack socket) is matched against its IPv4 form.
     */
    public Route lookup(InetSocketAddress sender) {
        InetAddress address = sender.getAddress();
        if (address instanceof Inet4Address) {
            // Inet4Address.hashCode() is the address itself: no copy of the bytes.
            return ipv4.get(Ipv4RouteMap.key(address.hashCode(), sender.getPort()));
        }
        if (address == null) {
            return null;
        }
        Route route = ipv6.isEmpty() ? null : ipv6.get(sender);
        if (route == null && isIpv4Mapped(address)) {
            // Java normally hands out IPv4-mapped addresses as Inet4Address already;
            // this covers any path that does not. Rare, so the allocation is acceptable.
            InetAddress v4 = Endpoint.normalise(address);
            return ipv4.get(Ipv4RouteMap.key(v4.hashCode(), sender.getPort()));
        }
        return route;
    }

    private static boolean isIpv4Mapped(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }

    /**
     * Number of linked peers with a stamped key: what an unknown source's initiation is
     * checked against (SPEC rule 3: a MAC1 match on P names P's partner).
     */
    public int keyedLinkedCount() {
        return keyed.length;
    }

    /** The i-th keyed, linked route (0 &lt;= i &lt; {@link #keyedLinkedCount()}). */
    public Route keyedLinkedRoute(int i) {
        return keyed[i];
    }

    /** The route of a peer by name (cold path: control verbs, roaming). */
    public Route routeOf(String peerName) {
        return byName.get(peerName);
    }

    /** Every route (cold path: the XDP map projection, status). */
    public Collection<Route> routes() {
        return java.util.Collections.unmodifiableCollection(byName.values());
    }

    public int peerCount() {
        return byName.size();
    }

    /** The routes of peers in two or more links (SPEC B), in roster order (cold path). */
    public List<Route> hubs() {
        return List.of(hubs);
    }

    /** One live session-index entry of a hub, with its owner resolved to the hub's partner. */
    @FunctionalInterface
    public interface SessionVisitor {
        void visit(Route hub, int receiverIndex, Partner owner);
    }

    /**
     * Visits every live entry of every hub's session index whose owner is still one of the
     * hub's partners (cold path: the XDP map projection).
     */
    public void forEachLiveSession(long nowMillis, SessionVisitor visitor) {
        for (Route hub : hubs) {
            hub.runtime().sessions().forEachLive(nowMillis, (index, ownerId) -> {
                Partner owner = hub.partnerById(ownerId);
                if (owner != null) {
                    visitor.visit(hub, index, owner);
                }
            });
        }
    }

    /** Changes whenever a hub's session index gains or loses an entry (the XDP sync compares it). */
    public long sessionVersion() {
        long sum = 0;
        for (Route hub : hubs) {
            sum += hub.runtime().sessions().version();
        }
        return sum;
    }

    public int linkCount() {
        return linkCount;
    }
}
