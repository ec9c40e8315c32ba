package org.wgrelay.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterFileException;
import org.wgrelay.server.roster.RosterOutcome;
import org.wgrelay.server.roster.RosterTest;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Route;

/** The roster's one writer: validate, persist, publish, then tell the listeners. */
class RosterServiceTest {
    static final Endpoint ALICE = Endpoint.parse("192.0.2.1:51001");
    static final Endpoint BOB = Endpoint.parse("[2001:db8::2]:51002");
    static final Endpoint CAROL = Endpoint.parse("192.0.2.3:51003");

    @TempDir
    Path dir;

    private RosterFile file;
    private ForwardingTableHolder holder;
    private RosterService svc;

    @BeforeEach
    void startWithAliceAndBobLinked() throws Exception {
        file = new RosterFile(dir.resolve("wg-roster"));
        holder = new ForwardingTableHolder(ForwardingTable.EMPTY);
        Roster initial = RosterTest.ok(
                RosterTest.ok(
                        RosterTest.ok(Roster.EMPTY, r -> r.addPeer("alice", ALICE, null, null)),
                        r -> r.addPeer("bob", BOB, null, null)),
                r -> r.addLink("alice", "bob"));
        svc = new RosterService(initial, file, holder, 2);
    }

    private static InetSocketAddress sender(Endpoint ep) throws Exception {
        return new InetSocketAddress(InetAddress.getByAddress(ep.address().getAddress()), ep.port());
    }

    @Test
    void publishesTheInitialRostersTableOnStart() throws Exception {
        ForwardingTable table = holder.current();
        assertNotSame(ForwardingTable.EMPTY, table);
        assertEquals(2, table.peerCount());
        assertEquals(1, table.linkCount());
        assertEquals("bob", table.lookup(sender(ALICE)).partner().name());
        assertSame(svc.statsOf("alice"), table.routeOf("alice").stats());
    }

    @Test
    void publishesANewTableForEveryChangeThatTakesEffect() throws Exception {
        ForwardingTable before = holder.current();

        RosterChange c = svc.addPeer("carol", CAROL, null, null);

        assertTrue(c.ok());
        ForwardingTable after = holder.current();
        assertNotSame(before, after);
        assertEquals("carol", after.lookup(sender(CAROL)).peer().name());
        assertNull(before.lookup(sender(CAROL)), "a published table is never changed");
        assertSame(c.roster(), svc.roster());

        svc.removeLink("bob", "alice");
        assertNull(holder.current().lookup(sender(ALICE)).partner());
        svc.addLink("carol", "alice");
        assertEquals(
                CAROL.socketAddress(), holder.current().lookup(sender(ALICE)).partnerAddress());
        svc.updateEndpoint("carol", Endpoint.parse("192.0.2.33:3"));
        assertEquals(
                Endpoint.parse("192.0.2.33:3").socketAddress(),
                holder.current().lookup(sender(ALICE)).partnerAddress());
        assertNull(holder.current().lookup(sender(CAROL)));
    }

    @Test
    void keepsTheTableWhenAChangeIsRejectedOrChangesNothing() {
        ForwardingTable before = holder.current();
        Roster roster = svc.roster();

        assertEquals(RosterOutcome.PEER_UNKNOWN, svc.addLink("alice", "carol").outcome());
        assertEquals(RosterOutcome.LINK_DUPLICATE, svc.addLink("bob", "alice").outcome());
        assertEquals(
                RosterOutcome.ENDPOINT_IN_USE,
                svc.addPeer("carol", ALICE, null, null).outcome());
        assertTrue(svc.updateEndpoint("alice", ALICE).ok(), "moving to the same endpoint is a no-op");

        assertSame(before, holder.current());
        assertSame(roster, svc.roster());
    }

    @Test
    void keepsAPeersCountersAcrossLinkEndpointKeyAndNicChanges() throws Exception {
        PeerStats alice = svc.statsOf("alice");
        assertNotNull(alice);
        alice.received(0, 100, 1_000);
        alice.forwarded(1, 100);

        svc.removeLink("alice", "bob");
        svc.addPeer("carol", CAROL, null, null);
        svc.addLink("alice", "carol");
        svc.updateEndpoint("alice", Endpoint.parse("192.0.2.11:11"));
        svc.setPubkey("alice", RosterTest.key(1));
        svc.setNic("alice", "eth0");
        svc.setNic("alice", null);

        assertSame(alice, svc.statsOf("alice"));
        Route route = holder.current().lookup(sender(Endpoint.parse("192.0.2.11:11")));
        assertSame(alice, route.stats());
        assertSame(alice, holder.current().routeOf("alice").stats());
        assertEquals(1, alice.get(PeerCounter.RX_PACKETS));
        assertEquals(100, alice.get(PeerCounter.RX_BYTES));
        assertEquals(100, alice.get(PeerCounter.FWD_BYTES));
        assertEquals(1_000, alice.lastSeenMillis());
    }

    @Test
    void dropsAPeersCountersWhenThePeerIsRemovedAndStartsFreshIfItIsAddedAgain() {
        PeerStats bob = svc.statsOf("bob");
        bob.received(0, 50, 5);

        svc.removePeer("bob");
        assertNull(svc.statsOf("bob"));
        assertNull(holder.current().routeOf("bob"));

        svc.addPeer("bob", BOB, null, null);
        PeerStats again = svc.statsOf("bob");
        assertNotNull(again);
        assertNotSame(bob, again);
        assertEquals(0, again.get(PeerCounter.RX_PACKETS));
        assertEquals(0, again.lastSeenMillis());
        assertSame(again, holder.current().routeOf("bob").stats());
    }

    @Test
    void givesEachPeerCountersWithOneStripePerWorkerPlusTheControlStripe() {
        PeerStats alice = svc.statsOf("alice");
        assertEquals(2, alice.ownerStripe());
        alice.increment(0, PeerCounter.DROP_NO_LINK);
        alice.increment(1, PeerCounter.DROP_NO_LINK);
        alice.increment(alice.ownerStripe(), PeerCounter.ENDPOINT_RELEARN);
        assertEquals(2, alice.get(PeerCounter.DROP_NO_LINK));
        assertEquals(1, alice.get(PeerCounter.ENDPOINT_RELEARN));
    }

    @Test
    void tellsListenersAfterTheChangeIsPersistedAndPublished() throws Exception {
        List<String> seen = new ArrayList<>();
        svc.addListener((before, change) -> {
            assertSame(change.roster(), svc.roster(), "the roster is already current");
            ForwardingTable table = holder.current();
            assertNotNull(table.routeOf("carol"), "the new table is already published");
            assertEquals(change.roster(), loadFile(), "the change is already on disk");
            assertEquals(2, before.peerCount());
            assertNull(before.peer("carol"));
            seen.add("first " + change.outcome().code());
        });
        svc.addListener((before, change) -> seen.add("second " + change.message()));

        svc.addPeer("carol", CAROL, null, null);

        assertEquals(List.of("first ok", "second peer 'carol' added at 192.0.2.3:51003"), seen);
    }

    @Test
    void tellsListenersOfEveryChangeOnceAndInOrderButNotOfRejectedOrEmptyChanges() {
        List<String> seen = new ArrayList<>();
        svc.addListener((before, change) -> seen.add(change.message()));

        svc.addPeer("carol", CAROL, null, null);
        svc.addPeer("carol", CAROL, null, null);
        svc.addLink("alice", "carol");
        svc.setNic("carol", "eth0");
        svc.setNic("carol", "eth0");
        svc.removePeer("carol");

        assertEquals(
                List.of("peer 'carol' added at 192.0.2.3:51003", "peer 'carol' pinned to eth0", "peer 'carol' removed"),
                seen);
    }

    @Test
    void aFailingListenerNeitherUndoesTheChangeNorSilencesTheOthers() {
        Logger logger = (Logger) LoggerFactory.getLogger(RosterService.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);
        List<String> seen = new ArrayList<>();
        try {
            svc.addListener((before, change) -> {
                throw new IllegalStateException("listener bug");
            });
            svc.addListener((before, change) -> seen.add(change.message()));

            RosterChange c = svc.addPeer("carol", CAROL, null, null);

            assertTrue(c.ok());
            assertNotNull(svc.roster().peer("carol"));
            assertEquals(1, seen.size());
            assertTrue(
                    captured.list.stream().anyMatch(e -> e.getFormattedMessage().contains("roster listener failed")));
        } finally {
            logger.detachAppender(captured);
        }
    }

    @Test
    void appliesConcurrentChangesOneAtATimeWithoutLosingAny() throws Exception {
        int threads = 8;
        int perThread = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < perThread; i++) {
                    String name = "t" + thread + "-" + i;
                    Endpoint ep = Endpoint.parse("10." + thread + "." + i + ".1:" + (1000 + i));
                    assertTrue(svc.addPeer(name, ep, null, null).ok());
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertEquals(2 + threads * perThread, svc.roster().peerCount());
        assertEquals(svc.roster().peerCount(), holder.current().peerCount());
        assertEquals(svc.roster(), file.load());
        for (PeerEntry p : svc.roster().peers()) {
            assertNotNull(svc.statsOf(p.name()));
        }
    }

    private Roster loadFile() {
        try {
            return file.load();
        } catch (RosterFileException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aChangeFromAnotherThreadRunsOnTheWriterThreadAndItsCallerGetsTheOutcome() throws Exception {
        DefaultEventExecutor writer = new DefaultEventExecutor(new DefaultThreadFactory("roster-writer"));
        try {
            RosterService owned = new RosterService(svc.roster(), file, holder, 2, writer);
            List<String> threads = new ArrayList<>();
            owned.addListener(
                    (before, change) -> threads.add(Thread.currentThread().getName()));

            RosterChange added = owned.addPeer("carol", CAROL, null, null);
            RosterChange refused = owned.addPeer("carol", CAROL, null, null);

            assertTrue(added.ok(), added.message());
            assertEquals(RosterOutcome.PEER_DUPLICATE, refused.outcome());
            assertEquals(1, threads.size());
            assertTrue(threads.get(0).startsWith("roster-writer"), threads.toString());
            assertNotNull(owned.roster().peer("carol"));
        } finally {
            writer.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
