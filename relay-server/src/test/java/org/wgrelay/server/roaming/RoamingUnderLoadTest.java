package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.roaming.RoamingHarness.ALICE_KEY;
import static org.wgrelay.server.roaming.RoamingHarness.BOB;
import static org.wgrelay.server.roaming.RoamingHarness.BOB_KEY;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.pipeline.HandshakeBudget;

/** Roaming under a flood of spoofed sources, and two workers racing over one candidate. */
class RoamingUnderLoadTest {

    private static InetSocketAddress spoofed(int n) throws Exception {
        return new InetSocketAddress(
                InetAddress.getByAddress(
                        new byte[] {(byte) (100 + (n >>> 24)), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n}),
                1000 + (n & 0x7fff));
    }

    @Test
    void aMillionSpoofedSourcesLeaveEveryTableBounded() throws Exception {
        try (RoamingHarness relay = new RoamingHarness()) {
            // A valid initiation (MAC1 for bob's key), replayed from a million addresses, a ms apart.
            ByteBuf init = relay.init(0x1234, BOB_KEY);
            for (int i = 0; i < 1_000_000; i++) {
                relay.receive(init.retainedDuplicate(), spoofed(i));
                relay.receive(relay.transport(i), spoofed(i + 7));
                relay.advance(1);
                if (i % 1000 == 0) {
                    relay.engine.sweep();
                    relay.sent();
                }
            }
            init.release();
            relay.sent();

            assertTrue(relay.engine.liveCandidates() <= 1, "at most one candidate per peer");
            assertTrue(relay.strikes.size() <= StrikeTable.CAPACITY);
            assertTrue(relay.blocklist.size() <= org.wgrelay.server.blocklist.Blocklist.CAPACITY);
            assertEquals(2_000_000, relay.count(RelayCounter.RX_PACKETS));
            // About one candidate per 30 s of the 1000 s flood; each expired one is a strike.
            long failed = relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED);
            assertTrue(failed >= 30 && failed <= 40, "failed candidates: " + failed);
            assertEquals(RoamingHarness.ep(RoamingHarness.ALICE), relay.endpointOf("alice"));
            assertEquals(DropSourceTable.CAPACITY, relay.state0.dropSources().size());
        }
    }

    private static InetSocketAddress spoofedV6(int n) throws Exception {
        byte[] a = new byte[16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = (byte) 0xb8;
        a[12] = (byte) (n >>> 24);
        a[13] = (byte) (n >>> 16);
        a[14] = (byte) (n >>> 8);
        a[15] = (byte) n;
        return new InetSocketAddress(InetAddress.getByAddress(a), 2000 + (n & 0x7fff));
    }

    /** Heap in use after full collections: what the relay's state holds, not garbage. */
    private static long heapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(
                    used,
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /** One round of the flood from four fresh sources, IPv4 or IPv6: a valid and a forged initiation, data, junk. */
    private static void floodRound(RoamingHarness relay, ByteBuf validInit, int i) throws Exception {
        int n = 4 * i;
        boolean v6 = (i & 1) == 1;
        relay.receive(validInit.retainedDuplicate(), v6 ? spoofedV6(n) : spoofed(n));
        relay.receive(relay.init(i, RoamingHarness.key(99)), v6 ? spoofedV6(n + 1) : spoofed(n + 1));
        relay.receive(relay.transport(i), v6 ? spoofedV6(n + 2) : spoofed(n + 2));
        relay.receive(Unpooled.wrappedBuffer(new byte[] {9, 9, 9}), v6 ? spoofedV6(n + 3) : spoofed(n + 3));
        relay.advance(1);
    }

    /**
     * A million spoofed sources, IPv4 and IPv6, of initiations (valid and forged), data and
     * junk: every table stays within its bound, the heap after a full collection is where it
     * was once the tables had filled (no growth with the number of sources), and the linked
     * pair's datagrams are forwarded all along.
     */
    @Test
    void aMillionSpoofedV4AndV6SourcesNeitherGrowTheHeapNorStopTheLinkedPair() throws Exception {
        try (RoamingHarness relay = new RoamingHarness()) {
            ByteBuf validInit = relay.init(0x1234, BOB_KEY); // MAC1 for bob's key: each claims to be alice
            for (int i = 0; i < 50_000; i++) { // fill the bounded tables first
                floodRound(relay, validInit, i);
                if (i % 1000 == 0) {
                    relay.engine.sweep();
                    relay.sent();
                }
            }
            relay.sent();
            long baseline = heapAfterGc();

            int forwarded = 0;
            for (int i = 50_000; i < 300_000; i++) { // 1,000,000 more sources
                floodRound(relay, validInit, i);
                if (i % 1000 == 0) {
                    relay.engine.sweep();
                    relay.sent();
                    relay.receive(relay.transport(i), RoamingHarness.ALICE);
                    assertEquals(List.of(BOB), relay.sent(), "alice's data reaches bob during the flood, round " + i);
                    forwarded++;
                }
            }
            validInit.release();
            relay.sent();
            long after = heapAfterGc();
            System.out.println("spoofed-source flood: heap after GC " + baseline / 1024 + " KiB with the tables full, "
                    + after / 1024 + " KiB after 1,000,000 more sources");

            assertEquals(250, forwarded);
            assertTrue(relay.engine.liveCandidates() <= 1, "at most one candidate per peer");
            assertTrue(relay.strikes.size() <= StrikeTable.CAPACITY, "strikes " + relay.strikes.size());
            assertTrue(relay.blocklist.size() <= org.wgrelay.server.blocklist.Blocklist.CAPACITY);
            assertEquals(DropSourceTable.CAPACITY, relay.state0.dropSources().size());
            assertTrue(relay.state0.handshakeBudget().trackedSources() <= HandshakeBudget.SOURCES);
            assertTrue(
                    Math.abs(after - baseline) <= baseline / 10,
                    "heap after GC " + after / 1024 + " KiB against " + baseline / 1024
                            + " KiB once the tables had filled");
        }
    }

    /**
     * SPEC section A: 50,000 forged initiations (MAC1 for a key nobody stamped) from one source
     * at 10 kpps. Four a second are searched and match nothing; the rest are over the source's
     * budget and never searched. Each one is counted as one or the other, none as an unknown
     * source, none forwarded.
     */
    @Test
    void aFloodOfForgedInitiationsFromOneSourceIsCountedAsUnmatchedOrRateLimitedAndNoneIsForwarded() throws Exception {
        try (RoamingHarness relay = new RoamingHarness()) {
            String nobodysKey = RoamingHarness.key(99);
            int sent = 50_000;
            for (int i = 0; i < sent; i++) {
                relay.receive(relay.init(i, nobodysKey), RoamingHarness.MALLORY);
                if (i % 10 == 9) {
                    relay.advance(1);
                }
            }

            assertEquals(List.of(), relay.sent(), "nothing forwarded");
            long unmatched = relay.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH);
            long limited = relay.count(RelayCounter.DROP_HANDSHAKE_RATE_LIMITED);
            assertEquals(sent, relay.count(RelayCounter.RX_PACKETS));
            assertEquals(sent, unmatched + limited, "unmatched " + unmatched + ", rate-limited " + limited);
            assertEquals(5 * HandshakeBudget.PER_SOURCE_PER_SECOND, unmatched, "5 s of 4 searches");
            assertEquals(0, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
            assertEquals(0, relay.count(RelayCounter.FWD_PACKETS));
            List<DropSourceTable.Row> rows = relay.state0.dropSources().snapshot();
            assertEquals(1, rows.size(), "one source");
            DropSourceTable.Row row = rows.get(0);
            assertEquals(unmatched, row.noPubkeyMatch());
            assertEquals(limited, row.handshakeRateLimited());
            assertEquals(0, row.unknownSource());
        }
    }

    /**
     * The worker's global budget: with two stamped keys, 100,000 searches a second; initiations
     * from fresh sources beyond that in the same instant are rate-limited, not searched.
     */
    @Test
    void initiationsOverTheWorkersMac1BudgetAreRateLimitedWhateverTheirSource() throws Exception {
        try (RoamingHarness relay = new RoamingHarness()) {
            String nobodysKey = RoamingHarness.key(99);
            int searches = (int) (HandshakeBudget.MAC_CHECKS_PER_SECOND / 2);
            ByteBuf init = relay.init(1, nobodysKey);
            for (int i = 0; i < searches + 100; i++) {
                relay.receive(init.retainedDuplicate(), spoofed(i));
            }
            init.release();

            assertEquals(searches, relay.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH));
            assertEquals(100, relay.count(RelayCounter.DROP_HANDSHAKE_RATE_LIMITED));
            assertEquals(0, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
            assertEquals(List.of(), relay.sent());
        }
    }

    @Test
    void whenTheOwnerVoidsAndThePartnerCommitsAtOnceExactlyOneWins() throws Exception {
        int rounds = 300;
        try (RoamingHarness relay = new RoamingHarness()) {
            for (int round = 0; round < rounds; round++) {
                InetSocketAddress current = relay.endpointOf("alice").socketAddress();
                // A fresh address each round: a voided candidate is a strike, and two would block it.
                InetSocketAddress next = new InetSocketAddress(
                        InetAddress.getByAddress(
                                new byte[] {(byte) 203, 0, (byte) (round / 250), (byte) (round % 250 + 1)}),
                        30000 + round);
                int initIndex = 0x100000 + round;
                int bobIndex = 0x200000 + round;
                relay.advance(RoamingEngine.RELEARN_COOLDOWN_MILLIS);
                relay.receive(relay.worker0, relay.init(initIndex, BOB_KEY), next);
                relay.receive(relay.worker1, relay.response(bobIndex, initIndex, ALICE_KEY), BOB);
                relay.sent();
                Candidate candidate = relay.engine.candidateOf("alice");
                assertTrue(candidate != null && candidate.isAnswered(), "round " + round + ": " + candidate);
                long relearnBefore = relay.peerCount("alice", PeerCounter.ENDPOINT_RELEARN);
                long failedBefore = relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED);

                // Worker 0: alice's committed endpoint sends on the answered session (voids).
                // Worker 1: bob's data to the candidate's session (commits). Same instant.
                CyclicBarrier start = new CyclicBarrier(2);
                ByteBuf voiding = relay.transport(bobIndex);
                ByteBuf committing = relay.transport(initIndex);
                Thread owner = new Thread(() -> race(start, relay.worker0, voiding, current));
                Thread partner = new Thread(() -> race(start, relay.worker1, committing, BOB));
                owner.start();
                partner.start();
                owner.join();
                partner.join();
                relay.sent();

                long relearned = relay.peerCount("alice", PeerCounter.ENDPOINT_RELEARN) - relearnBefore;
                long failed = relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED) - failedBefore;
                assertEquals(1, relearned + failed, "round " + round + ": exactly one of commit or void; " + candidate);
                assertEquals(
                        relearned == 1 ? RoamingHarness.ep(next) : RoamingHarness.ep(current),
                        relay.endpointOf("alice"));
                assertEquals(null, relay.engine.candidateOf("alice"));
            }
        }
    }

    private static void race(CyclicBarrier start, EmbeddedChannel worker, ByteBuf payload, InetSocketAddress from) {
        try {
            start.await();
            worker.writeInbound(new DatagramPacket(payload, RoamingHarness.RELAY, from));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
