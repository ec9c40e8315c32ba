package org.wgrelay.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.netty.util.concurrent.DefaultEventExecutor;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.control.StateEvents;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterOutcome;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * The etcd store against a real etcd: two relays in one process, each with its own store,
 * writer thread and blocklist, sharing one prefix. Races between them, a roam that loses to
 * another relay's change, a watch that starts behind compaction, blocklist leases.
 */
class EtcdRosterStoreTest {
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static LocalEtcd etcd;
    private static Client admin;

    private final List<Relay> relays = new ArrayList<>();
    private final String prefix = "/t" + PREFIXES.incrementAndGet() + "/";

    /** One relay's store side: writer thread, blocklist, roster service over an etcd store. */
    static final class Relay implements AutoCloseable {
        final DefaultEventExecutor writer = new DefaultEventExecutor();
        final Blocklist blocklist = new Blocklist();
        final List<String> events = new CopyOnWriteArrayList<>();
        final EtcdRosterStore store;
        final RosterService roster;

        Relay(String prefix, String id, int maxLinks) {
            EtcdSettings settings =
                    new EtcdSettings(List.of(URI.create(etcd.endpoint())), prefix, id, null, null, null, null, null);
            store = new EtcdRosterStore(
                    settings,
                    maxLinks,
                    (RosterFile) null,
                    blocklist,
                    System::currentTimeMillis,
                    (event, data) -> events.add(event + " " + data),
                    () -> new RelayInfo(id, "127.0.0.1:51820", "test", "2026-12-04T00:00:00Z"));
            roster = new RosterService(
                    org.wgrelay.server.roster.Roster.empty(maxLinks),
                    store,
                    new ForwardingTableHolder(ForwardingTable.EMPTY),
                    1,
                    writer);
            roster.addListener(new StateEvents((event, data) -> events.add(event + " " + data)));
        }

        Relay started() {
            store.start();
            await("first sync", () -> store.status().synced() && store.status().connected());
            return this;
        }

        <T> T onWriter(Callable<T> task) throws Exception {
            return writer.submit(task).get(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            store.close();
            writer.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = LocalEtcd.start();
        admin = Client.builder().endpoints(etcd.endpoint()).build();
    }

    @AfterAll
    static void stopEtcd() {
        if (admin != null) {
            admin.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @AfterEach
    void closeRelays() {
        relays.forEach(Relay::close);
    }

    private Relay relay(String id, int maxLinks) {
        Relay r = new Relay(prefix, id, maxLinks);
        relays.add(r);
        return r.started();
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    private Map<String, String> stored() throws Exception {
        Map<String, String> out = new TreeMap<>();
        admin.getKVClient()
                .get(bs(prefix), GetOption.builder().isPrefix(true).build())
                .get(5, TimeUnit.SECONDS)
                .getKvs()
                .forEach(kv -> out.put(
                        kv.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length()),
                        kv.getValue().toString(StandardCharsets.UTF_8)));
        out.keySet().removeIf(k -> k.startsWith(StoreKeys.RELAYS) || k.startsWith(StoreKeys.FENCES));
        return out;
    }

    private static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static Endpoint ep(String text) {
        return Endpoint.parse(text);
    }

    /** Runs the two calls at the same moment and returns their outcomes, a's first. */
    private static List<RosterChange> race(Callable<RosterChange> a, Callable<RosterChange> b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            Future<RosterChange> fa = pool.submit(() -> {
                go.await();
                return a.call();
            });
            Future<RosterChange> fb = pool.submit(() -> {
                go.await();
                return b.call();
            });
            go.countDown();
            return List.of(fa.get(30, TimeUnit.SECONDS), fb.get(30, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    private static void exactlyOneWins(List<RosterChange> outcomes, RosterOutcome loserCode) {
        long won = outcomes.stream().filter(RosterChange::ok).count();
        assertEquals(1, won, "exactly one wins: " + outcomes);
        assertEquals(
                loserCode,
                outcomes.stream().filter(c -> !c.ok()).findFirst().orElseThrow().outcome(),
                outcomes.toString());
    }

    @Test
    void aChangeOnOneRelayIsLiveOnTheOtherAndEveryKeyIsSpecsLayout() throws Exception {
        Relay a = relay("a", 1);
        Relay b = relay("b", 1);
        assertTrue(a.roster.addPeer("alice", ep("10.0.0.1:1000"), null, "lab").ok());
        assertTrue(b.roster.addPeer("bob", ep("10.0.0.2:2000"), null, null).ok());
        assertNotNull(a.roster.roster().peer("alice"), "read-your-writes on the relay that made it");
        assertTrue(a.roster.addLink("bob", "alice").ok());
        await("b sees a's link", () -> b.roster.roster().linkBetween("alice", "bob") != null);
        assertEquals("lab", b.roster.roster().peer("alice").label());
        assertNotNull(b.roster.roster().peerAt(ep("10.0.0.1:1000")), "b's table routes alice's endpoint");
        assertEquals(
                List.of(
                        "endpoints/10.0.0.1:1000",
                        "endpoints/10.0.0.2:2000",
                        "links/alice/bob",
                        "peers/alice",
                        "peers/bob"),
                List.copyOf(stored().keySet()));
        await(
                "b announces the link a made",
                () -> b.events.stream().anyMatch(e -> e.startsWith("state.wg.link_added")));
        await("both relays listed", () -> a.store.relays().size() == 2);
        assertEquals(
                List.of("a", "b"), a.store.relays().stream().map(RelayInfo::id).toList());
    }

    @Test
    void racingVerbsOnTwoRelaysHaveExactlyOneWinnerAndTheSingleRelayCodes() throws Exception {
        Relay a = relay("a", 1);
        Relay b = relay("b", 1);
        for (int i = 0; i < 10; i++) {
            String n = "p" + i;
            String ea = "10.1.0." + i + ":1";
            String eb = "10.2.0." + i + ":1";
            exactlyOneWins(
                    race(() -> a.roster.addPeer(n, ep(ea), null, null), () -> b.roster.addPeer(n, ep(eb), null, null)),
                    RosterOutcome.PEER_DUPLICATE);
            String e = "10.3.0." + i + ":3";
            String x = "x" + i;
            String y = "y" + i;
            exactlyOneWins(
                    race(() -> a.roster.addPeer(x, ep(e), null, null), () -> b.roster.addPeer(y, ep(e), null, null)),
                    RosterOutcome.ENDPOINT_IN_USE);
        }
        // The link limit (one link per peer): two relays link one peer to different partners at once.
        for (int i = 0; i < 4; i++) {
            String hub = "h" + i;
            String s1 = "s" + i + "a";
            String s2 = "s" + i + "b";
            assertTrue(
                    a.roster.addPeer(hub, ep("10.4.0." + i + ":4"), null, null).ok());
            assertTrue(
                    a.roster.addPeer(s1, ep("10.5.0." + i + ":5"), null, null).ok());
            assertTrue(
                    a.roster.addPeer(s2, ep("10.6.0." + i + ":6"), null, null).ok());
            await("b has " + s2, () -> b.roster.roster().peer(s2) != null);
            exactlyOneWins(
                    race(() -> a.roster.addLink(hub, s1), () -> b.roster.addLink(s2, hub)),
                    RosterOutcome.LINK_LIMIT_EXCEEDED);
        }
        // Nothing half-written: every stored endpoint key names a peer that has it, and back.
        Map<String, String> kv = stored();
        for (Map.Entry<String, String> e : kv.entrySet()) {
            if (e.getKey().startsWith(StoreKeys.ENDPOINTS)) {
                String owner = e.getValue();
                String peer = kv.get(StoreKeys.peer(owner));
                assertNotNull(peer, e.toString());
                assertTrue(peer.contains(e.getKey().substring(StoreKeys.ENDPOINTS.length())), e + " vs " + peer);
            }
        }
        long peers =
                kv.keySet().stream().filter(k -> k.startsWith(StoreKeys.PEERS)).count();
        long endpoints = kv.keySet().stream()
                .filter(k -> k.startsWith(StoreKeys.ENDPOINTS))
                .count();
        assertEquals(32, peers);
        assertEquals(peers, endpoints);
        await("both relays agree", () -> a.roster.roster().equals(b.roster.roster()));
        for (org.wgrelay.server.roster.PeerEntry p : a.roster.roster().peers()) {
            assertTrue(a.roster.roster().linkCountOf(p.name()) <= 1, p.name());
        }
    }

    @Test
    void aRoamThatLosesToAnotherRelaysChangeTakesTheStoredState() throws Exception {
        Relay a = relay("a", 1);
        Relay b = relay("b", 1);
        assertTrue(a.roster.addPeer("bob", ep("10.0.0.2:2000"), null, null).ok());
        await("b has bob", () -> b.roster.roster().peer("bob") != null);
        // Hold a's writer; queue a's roam behind the hold, before b's change can reach a's watch.
        CountDownLatch hold = new CountDownLatch(1);
        a.writer.execute(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Future<RosterChange> roam = a.writer.submit(() -> a.roster.relearn("bob", ep("10.9.9.9:9999")));
        assertTrue(b.roster.updateEndpoint("bob", ep("10.0.0.7:7000")).ok());
        hold.countDown();
        assertTrue(roam.get(10, TimeUnit.SECONDS).ok(), "the roam is live at once on a");
        await(
                "a takes the stored state",
                () -> ep("10.0.0.7:7000").equals(a.roster.roster().peer("bob").endpoint()));
        assertEquals(ep("10.0.0.7:7000"), b.roster.roster().peer("bob").endpoint());
        assertEquals("bob", stored().get("endpoints/10.0.0.7:7000"));
        assertNull(stored().get("endpoints/10.9.9.9:9999"), "the losing roam wrote nothing");
    }

    @Test
    void aRoamThatWinsIsStoredAndUsedByTheOtherRelay() throws Exception {
        Relay a = relay("a", 1);
        Relay b = relay("b", 1);
        assertTrue(a.roster.addPeer("bob", ep("10.0.0.2:2000"), null, null).ok());
        await("b has bob", () -> b.roster.roster().peer("bob") != null);
        assertTrue(
                a.onWriter(() -> a.roster.relearn("bob", ep("10.0.0.8:8000"))).ok());
        await(
                "b uses a's roam",
                () -> ep("10.0.0.8:8000").equals(b.roster.roster().peer("bob").endpoint()));
        assertEquals("bob", stored().get("endpoints/10.0.0.8:8000"));
        assertNull(stored().get("endpoints/10.0.0.2:2000"));
    }

    @Test
    void aWatchThatStartsBehindCompactionResyncs() throws Exception {
        Relay a = new Relay(prefix, "a", 1);
        relays.add(a);
        a.store.betweenReadAndWatch = () -> {
            try {
                // Two changes after the read, then compaction past them: the watch from the
                // read's revision can no longer replay what it missed.
                admin.getKVClient()
                        .put(bs(prefix + "peers/late1"), bs("{\"endpoint\":\"10.0.5.1:1\"}"))
                        .get(5, TimeUnit.SECONDS);
                long rev = admin.getKVClient()
                        .put(bs(prefix + "peers/late2"), bs("{\"endpoint\":\"10.0.5.2:1\"}"))
                        .get(5, TimeUnit.SECONDS)
                        .getHeader()
                        .getRevision();
                admin.getKVClient().compact(rev).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        a.store.start();
        await("resynced after compaction", () -> a.roster.roster().peer("late2") != null);
        assertNotNull(a.roster.roster().peer("late1"));
        assertTrue(a.store.status().syncs() >= 2, "a second full read: " + a.store.status());
        assertTrue(a.store.status().losses() >= 1, a.store.status().toString());
    }

    @Test
    void aBlockOnOneRelayDropsOnTheOtherAndItsLeaseExpiresOnBoth() throws Exception {
        Relay a = relay("a", 1);
        Relay b = relay("b", 1);
        InetAddress ip = InetAddress.getByName("192.0.2.77");
        a.store.block(ip, 2, 3);
        assertTrue(a.blocklist.isBlocked(ip, System.currentTimeMillis()), "live on a when the verb returns");
        await("b blocks it", () -> b.blocklist.isBlocked(ip, System.currentTimeMillis()));
        await("b announces a's block", () -> b.events.stream().anyMatch(e -> e.startsWith("state.wg.blocklist_added")));
        assertFalse(a.events.stream().anyMatch(e -> e.startsWith("state.wg.blocklist_added")), "a announced its own");
        await("the lease ends on both", () -> b.blocklist.size() == 0 && a.blocklist.size() == 0);
        assertFalse(stored().containsKey("blocklist/192.0.2.77"));
        // A strike block made on b is shared the same way.
        InetAddress struck = InetAddress.getByName("192.0.2.78");
        b.onWriter(() -> {
            b.blocklist.block(struck, System.currentTimeMillis() + 60_000, 5);
            b.store.shareStrikeBlock(struck, 60, 5);
            return null;
        });
        await("a blocks b's strike", () -> a.blocklist.isBlocked(struck, System.currentTimeMillis()));
        assertTrue(a.store.unblock(struck));
        await("b unblocks it", () -> !b.blocklist.isBlocked(struck, System.currentTimeMillis()));
        assertFalse(a.store.unblock(struck), "gone");
    }
}
