package org.wgrelay.server.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterOutcome;

/**
 * The forwarding table against a naive model: random roster operations, each checked
 * against a list-based lookup that cannot be wrong (a linear scan of the peers).
 */
class ForwardingTableModelTest {

    /** The naive model: peers in a list, links as pairs of names. */
    private static final class Model {
        final List<String[]> links = new ArrayList<>();
        final List<Object[]> peers = new ArrayList<>(); // {name, Endpoint}

        Endpoint endpointOf(String name) {
            for (Object[] p : peers) {
                if (p[0].equals(name)) {
                    return (Endpoint) p[1];
                }
            }
            return null;
        }

        String nameAt(Endpoint ep) {
            for (Object[] p : peers) {
                if (p[1].equals(ep)) {
                    return (String) p[0];
                }
            }
            return null;
        }

        String partnerOf(String name) {
            for (String[] l : links) {
                if (l[0].equals(name)) {
                    return l[1];
                }
                if (l[1].equals(name)) {
                    return l[0];
                }
            }
            return null;
        }

        int indexOfLink(String a, String b) {
            for (int i = 0; i < links.size(); i++) {
                String[] l = links.get(i);
                if ((l[0].equals(a) && l[1].equals(b)) || (l[0].equals(b) && l[1].equals(a))) {
                    return i;
                }
            }
            return -1;
        }

        RosterOutcome addPeer(String name, Endpoint ep) {
            if (endpointOf(name) != null) {
                return RosterOutcome.PEER_DUPLICATE;
            }
            if (nameAt(ep) != null) {
                return RosterOutcome.ENDPOINT_IN_USE;
            }
            peers.add(new Object[] {name, ep});
            return RosterOutcome.OK;
        }

        RosterOutcome updateEndpoint(String name, Endpoint ep) {
            if (endpointOf(name) == null) {
                return RosterOutcome.PEER_UNKNOWN;
            }
            String holder = nameAt(ep);
            if (holder != null && !holder.equals(name)) {
                return RosterOutcome.ENDPOINT_IN_USE;
            }
            for (Object[] p : peers) {
                if (p[0].equals(name)) {
                    p[1] = ep;
                }
            }
            return RosterOutcome.OK;
        }

        RosterOutcome removePeer(String name) {
            if (endpointOf(name) == null) {
                return RosterOutcome.PEER_UNKNOWN;
            }
            peers.removeIf(p -> p[0].equals(name));
            links.removeIf(l -> l[0].equals(name) || l[1].equals(name));
            return RosterOutcome.OK;
        }

        RosterOutcome addLink(String a, String b) {
            if (a.equals(b)) {
                return RosterOutcome.LINK_SELF;
            }
            if (endpointOf(a) == null || endpointOf(b) == null) {
                return RosterOutcome.PEER_UNKNOWN;
            }
            if (indexOfLink(a, b) >= 0) {
                return RosterOutcome.LINK_DUPLICATE;
            }
            if (partnerOf(a) != null || partnerOf(b) != null) {
                return RosterOutcome.LINK_LIMIT_EXCEEDED;
            }
            links.add(new String[] {a, b});
            return RosterOutcome.OK;
        }

        RosterOutcome removeLink(String a, String b) {
            int i = indexOfLink(a, b);
            if (i < 0) {
                return RosterOutcome.LINK_UNKNOWN;
            }
            links.remove(i);
            return RosterOutcome.OK;
        }
    }

    private final Map<String, PeerStats> stats = new HashMap<>();

    private final Map<String, PeerRuntime> runtimes = new HashMap<>();

    private ForwardingTable build(Roster roster) {
        return ForwardingTable.build(
                roster,
                name -> runtimes.computeIfAbsent(
                        name, n -> new PeerRuntime(stats.computeIfAbsent(n, m -> new PeerStats(1)))));
    }

    private static List<Endpoint> endpointPool() {
        List<Endpoint> pool = new ArrayList<>();
        String[] ips = {
            "10.0.0.0",
            "10.0.0.1",
            "10.0.0.2",
            "10.1.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "2001:db8::",
            "2001:db8::1",
            "2001:db8::2",
            "::",
            "fe80::1"
        };
        int[] ports = {1, 2, 51820, 65535};
        for (String ip : ips) {
            for (int port : ports) {
                pool.add(Endpoint.of(ip(ip), port));
            }
        }
        return pool;
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A fresh socket address for the endpoint, sharing nothing with the table's own. */
    static InetSocketAddress senderOf(Endpoint ep) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ep.address().getAddress()), ep.port());
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The IPv4-mapped IPv6 form of an IPv4 endpoint, as a dual-stack socket may report it. */
    static InetSocketAddress mappedSenderOf(Endpoint ep) {
        byte[] v4 = ep.address().getAddress();
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4, 0, mapped, 12, 4);
        try {
            return new InetSocketAddress(Inet6Address.getByAddress(null, mapped, -1), ep.port());
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 42, 20240601})
    void agreesWithANaiveListLookupOverRandomRosterChanges(long seed) {
        Random random = new Random(seed);
        List<Endpoint> pool = endpointPool();
        Model model = new Model();
        Roster roster = Roster.EMPTY;
        for (int step = 0; step < 600; step++) {
            String a = "p" + random.nextInt(12);
            String b = "p" + random.nextInt(12);
            Endpoint ep = pool.get(random.nextInt(pool.size()));
            if (random.nextInt(8) == 0 && ep.isIpv4()) {
                // The same endpoint written as an IPv4-mapped IPv6 address is the same endpoint.
                InetSocketAddress mapped = mappedSenderOf(ep);
                ep = Endpoint.of(mapped.getAddress(), mapped.getPort());
            }
            RosterChange change;
            RosterOutcome expected;
            switch (random.nextInt(6)) {
                case 0:
                case 1:
                    change = roster.addPeer(a, ep, null, null);
                    expected = model.addPeer(a, ep);
                    break;
                case 2:
                    change = roster.updateEndpoint(a, ep);
                    expected = model.updateEndpoint(a, ep);
                    break;
                case 3:
                    change = roster.removePeer(a);
                    expected = model.removePeer(a);
                    break;
                case 4:
                    change = roster.addLink(a, b);
                    expected = model.addLink(a, b);
                    break;
                default:
                    change = roster.removeLink(a, b);
                    expected = model.removeLink(a, b);
                    break;
            }
            assertEquals(expected, change.outcome(), "step " + step + ": " + change.message());
            if (!change.ok()) {
                assertSame(roster, change.roster(), "a rejected change returns the roster unchanged");
            }
            roster = change.roster();
            checkTableAgainstModel(build(roster), roster, model, pool, "seed " + seed + " step " + step);
        }
    }

    private void checkTableAgainstModel(
            ForwardingTable table, Roster roster, Model model, List<Endpoint> pool, String where) {
        assertEquals(model.peers.size(), table.peerCount(), where);
        assertEquals(model.links.size(), table.linkCount(), where);
        assertEquals(model.peers.size(), roster.peerCount(), where);
        for (Endpoint ep : pool) {
            String owner = model.nameAt(ep);
            Route route = table.lookup(senderOf(ep));
            if (owner == null) {
                assertNull(route, where + ": unregistered " + ep + " found " + route);
                continue;
            }
            assertNotNull(route, where + ": registered " + ep + " not found");
            assertEquals(owner, route.peer().name(), where);
            assertEquals(ep, route.peer().endpoint(), where);
            assertSame(stats.get(owner), route.stats(), where);
            String partner = model.partnerOf(owner);
            if (partner == null) {
                assertNull(route.partner(), where);
                assertNull(route.partnerAddress(), where);
                assertTrue(!route.linked(), where);
            } else {
                assertEquals(partner, route.partner().name(), where);
                assertEquals(model.endpointOf(partner).socketAddress(), route.partnerAddress(), where);
                assertTrue(route.linked(), where);
            }
            assertSame(route, table.routeOf(owner), where);
            assertSame(route, table.lookup(ep.socketAddress()), where);
            if (ep.isIpv4()) {
                assertSame(route, table.lookup(mappedSenderOf(ep)), where + ": v4-mapped sender of " + ep);
            }
        }
        for (Object[] p : model.peers) {
            assertNotNull(table.routeOf((String) p[0]), where);
        }
        assertNull(table.routeOf("nobody"), where);
    }

    @Test
    void findsEveryOneOfThousandsOfIpv4AndIpv6PeersAndNothingElse() {
        Random random = new Random(99);
        Roster.Builder builder = Roster.builder();
        Set<Endpoint> registered = new HashSet<>();
        List<String> names = new ArrayList<>();
        int n = 0;
        while (registered.size() < 6000) {
            byte[] raw = new byte[random.nextInt(4) == 0 ? 16 : 4];
            random.nextBytes(raw);
            if (raw.length == 4 && random.nextBoolean()) {
                raw[0] = 10; // many peers in one /8, like a real NAT pool
            }
            Endpoint ep = Endpoint.of(addressOf(raw), 1 + random.nextInt(random.nextBoolean() ? 4 : 65535));
            if (!registered.add(ep)) {
                continue;
            }
            String name = "peer" + n++;
            names.add(name);
            assertTrue(builder.apply(r -> r.addPeer(name, ep, null, null)).ok());
        }
        for (int i = 0; i + 1 < names.size(); i += 2) {
            String a = names.get(i);
            String b = names.get(i + 1);
            assertTrue(builder.apply(r -> r.addLink(a, b)).ok());
        }
        Roster roster = builder.build();
        ForwardingTable table = build(roster);

        assertEquals(6000, table.peerCount());
        assertEquals(3000, table.linkCount());
        for (PeerEntry p : roster.peers()) {
            Route route = table.lookup(senderOf(p.endpoint()));
            assertNotNull(route, p.toString());
            assertEquals(p.name(), route.peer().name());
            assertEquals(roster.partnerOf(p.name()), route.partner().name());
        }
        int misses = 0;
        while (misses < 6000) {
            byte[] raw = new byte[random.nextBoolean() ? 16 : 4];
            random.nextBytes(raw);
            Endpoint probe = Endpoint.of(addressOf(raw), 1 + random.nextInt(65535));
            if (registered.contains(probe)) {
                continue;
            }
            assertNull(table.lookup(senderOf(probe)), probe.toString());
            misses++;
        }
    }

    @Test
    void distinguishesEndpointsThatDifferOnlyInThePortOrOnlyInTheAddress() {
        Roster.Builder builder = Roster.builder();
        int n = 0;
        for (int port : new int[] {1, 2, 256, 257, 65535}) {
            for (String ip : new String[] {"0.0.0.0", "0.0.0.1", "1.0.0.0", "0.1.0.0", "255.255.255.255"}) {
                String name = "p" + n++;
                Endpoint ep = Endpoint.of(ip(ip), port);
                assertTrue(builder.apply(r -> r.addPeer(name, ep, null, null)).ok());
            }
        }
        Roster roster = builder.build();
        ForwardingTable table = build(roster);
        for (PeerEntry p : roster.peers()) {
            assertEquals(p.name(), table.lookup(senderOf(p.endpoint())).peer().name());
        }
        assertNull(table.lookup(new InetSocketAddress(ip("0.0.0.0"), 3)));
        assertNull(table.lookup(new InetSocketAddress(ip("0.0.0.2"), 1)));
    }

    @Test
    void keysIpv4EndpointsWithoutCollisionsBetweenAddressAndPort() {
        Set<Long> keys = new HashSet<>();
        int[] ips = {0, 1, 0x0000FFFF, 0x00010000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x0A000001};
        int[] ports = {1, 2, 255, 256, 0x7FFF, 0x8000, 65535};
        for (int ipv4 : ips) {
            for (int port : ports) {
                long key = Ipv4RouteMap.key(ipv4, port);
                assertTrue(key != 0, "0 is the empty-slot marker");
                assertTrue(keys.add(key), "duplicate key for " + Integer.toHexString(ipv4) + ":" + port);
            }
        }
    }

    @Test
    void findsNothingInTheEmptyTable() {
        assertEquals(0, ForwardingTable.EMPTY.peerCount());
        assertEquals(0, ForwardingTable.EMPTY.linkCount());
        assertNull(ForwardingTable.EMPTY.lookup(new InetSocketAddress(ip("192.0.2.1"), 1)));
        assertNull(ForwardingTable.EMPTY.lookup(new InetSocketAddress(ip("2001:db8::1"), 1)));
        assertNull(ForwardingTable.EMPTY.routeOf("alice"));
    }

    @Test
    void findsNothingForAnUnresolvedSender() {
        Roster roster = Roster.EMPTY
                .addPeer("alice", Endpoint.parse("192.0.2.1:1"), null, null)
                .roster();
        assertNull(build(roster).lookup(InetSocketAddress.createUnresolved("192.0.2.1", 1)));
    }

    @Test
    void aRouteIsPrecomputedWithThePartnersPreallocatedAddress() {
        Roster roster = Roster.EMPTY
                .addPeer("alice", Endpoint.parse("192.0.2.1:1"), null, null)
                .roster()
                .addPeer("bob", Endpoint.parse("[2001:db8::2]:2"), null, null)
                .roster()
                .addLink("alice", "bob")
                .roster();
        ForwardingTable table = build(roster);

        Route alice = table.lookup(new InetSocketAddress(ip("192.0.2.1"), 1));
        Route bob = table.lookup(new InetSocketAddress(ip("2001:db8::2"), 2));
        assertSame(roster.peer("bob").endpoint().socketAddress(), alice.partnerAddress());
        assertSame(roster.peer("alice").endpoint().socketAddress(), bob.partnerAddress());
        assertEquals("alice@192.0.2.1:1 -> bob@[2001:db8::2]:2", alice.toString());
    }

    @Test
    void theHolderPublishesATableWholeAndHandsOutTheLatest() {
        ForwardingTableHolder holder = new ForwardingTableHolder(ForwardingTable.EMPTY);
        assertSame(ForwardingTable.EMPTY, holder.current());
        ForwardingTable next = build(Roster.EMPTY
                .addPeer("a", Endpoint.parse("192.0.2.1:1"), null, null)
                .roster());
        holder.publish(next);
        assertSame(next, holder.current());
    }

    private static InetAddress addressOf(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
