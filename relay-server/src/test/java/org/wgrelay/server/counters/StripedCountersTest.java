package org.wgrelay.server.counters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** One writer per stripe, any number of readers: sums are exact once the writers are done. */
class StripedCountersTest {

    @Test
    void sumsEveryStripesCountsWhileOneThreadPerStripeWrites() throws Exception {
        int stripes = 8;
        int counters = 11;
        int rounds = 200_000;
        StripedCounters c = new StripedCounters(stripes, counters);
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> writers = new ArrayList<>();
        for (int s = 0; s < stripes; s++) {
            int stripe = s;
            Thread t = new Thread(
                    () -> {
                        try {
                            start.await();
                            for (int i = 0; i < rounds; i++) {
                                c.increment(stripe, 0);
                                c.add(stripe, counters - 1, 3);
                                c.add(stripe, stripe % counters, 1);
                                c.max(stripe, 9, i);
                            }
                        } catch (Throwable e) {
                            failure.set(e);
                        }
                    },
                    "stripe-" + s);
            writers.add(t);
            t.start();
        }
        // A reader running alongside sees sums that never go backwards.
        Thread reader = new Thread(
                () -> {
                    long last = 0;
                    while (writing.get()) {
                        long now = c.sum(0);
                        if (now < last) {
                            failure.set(new AssertionError("sum went backwards: " + last + " -> " + now));
                        }
                        last = now;
                    }
                },
                "reader");
        reader.start();
        start.countDown();
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        writing.set(false);
        reader.join(TimeUnit.SECONDS.toMillis(30));
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }

        assertEquals((long) stripes * rounds, c.sum(0) - (long) rounds, "counter 0 also got stripe 0's own adds");
        assertEquals(3L * stripes * rounds, c.sum(counters - 1));
        for (int k = 1; k < stripes; k++) {
            assertEquals(rounds, c.sum(k), "counter " + k + " is written by stripe " + k + " only");
        }
        assertEquals(0, c.sum(8));
        assertEquals(rounds - 1, c.maxOf(9));
    }

    @Test
    void keepsEveryStripeAndCounterInItsOwnCell() {
        for (int counters : new int[] {1, 7, 8, 9, 16, 17}) {
            int stripes = 5;
            StripedCounters c = new StripedCounters(stripes, counters);
            for (int s = 0; s < stripes; s++) {
                for (int k = 0; k < counters; k++) {
                    c.add(s, k, 1L << s);
                }
            }
            for (int k = 0; k < counters; k++) {
                assertEquals((1L << stripes) - 1, c.sum(k), counters + " counters, counter " + k);
            }
        }
    }

    @Test
    void keepsTheLargestValueOfAMaxCellAcrossStripes() {
        StripedCounters c = new StripedCounters(3, 2);
        c.max(0, 1, 10);
        c.max(0, 1, 5);
        c.max(2, 1, 7);
        assertEquals(10, c.maxOf(1));
        c.max(1, 1, 11);
        assertEquals(11, c.maxOf(1));
        assertEquals(0, c.maxOf(0), "an untouched cell reads 0");
    }

    @Test
    void refusesAStripeOrCounterOutOfRange() {
        StripedCounters c = new StripedCounters(2, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> c.increment(2, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> c.increment(-1, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> c.increment(0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> c.add(0, -1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> c.sum(3));
        assertThrows(IndexOutOfBoundsException.class, () -> c.maxOf(-1));
        assertThrows(IllegalArgumentException.class, () -> new StripedCounters(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new StripedCounters(1, 0));
        assertEquals(2, c.stripes());
    }

    @Test
    void relayCountersGiveTheControlAndXdpThreadsTheirOwnStripesAfterTheWorkers() {
        RelayCounters counters = new RelayCounters(4);
        assertEquals(4, counters.ownerStripe());
        assertEquals(5, counters.xdpStripe());
        for (int s = 0; s <= 5; s++) {
            counters.increment(s, RelayCounter.DROP_RELEARN_UNCONFIRMED);
        }
        assertEquals(6, counters.get(RelayCounter.DROP_RELEARN_UNCONFIRMED));
        assertEquals(0, counters.get(RelayCounter.RX_PACKETS));
        assertThrows(IndexOutOfBoundsException.class, () -> counters.increment(6, RelayCounter.RX_PACKETS));
    }

    @Test
    void namesTheAggregateCountersAsWgShowDoes() {
        List<String> keys = new ArrayList<>();
        for (RelayCounter c : RelayCounter.values()) {
            keys.add(c.key());
        }
        assertTrue(
                keys.containsAll(List.of(
                        "rx_packets",
                        "fwd_packets",
                        "drop_unknown_src",
                        "drop_no_link",
                        "drop_not_wg_shaped",
                        "drop_handshake_pubkey_mismatch",
                        "drop_handshake_no_pubkey_match",
                        "drop_relearn_unconfirmed",
                        "drop_blocklisted")),
                keys.toString());
        for (RelayCounter c : RelayCounter.values()) {
            assertEquals(c.key().startsWith("drop_"), c.isDrop(), c.key());
        }
        assertEquals(0, RelayCounter.RX_PACKETS.ordinal(), "counter ids are stable: append, never reorder");
        assertEquals(1, RelayCounter.FWD_PACKETS.ordinal());
    }

    @Test
    void namesThePeerCountersAsWgPeerListDoes() {
        List<String> keys = new ArrayList<>();
        for (PeerCounter c : PeerCounter.values()) {
            keys.add(c.key());
        }
        assertEquals(
                List.of(
                        "rx_packets",
                        "rx_bytes",
                        "fwd_packets",
                        "fwd_bytes",
                        "drop_no_link",
                        "drop_pubkey_mismatch",
                        "endpoint_relearn",
                        "last_seen",
                        "drop_no_route",
                        "drop_no_endpoint"),
                keys);
    }

    @Test
    void peerStatsSumPacketsAndBytesAndKeepTheLatestLastSeenAcrossWorkers() {
        PeerStats stats = new PeerStats(2);
        stats.received(0, 100, 5_000);
        stats.received(1, 60, 4_000);
        stats.received(1, 40, 9_000);
        stats.forwarded(0, 100);
        stats.forwarded(1, 40);
        stats.increment(stats.ownerStripe(), PeerCounter.ENDPOINT_RELEARN);

        assertEquals(3, stats.get(PeerCounter.RX_PACKETS));
        assertEquals(200, stats.get(PeerCounter.RX_BYTES));
        assertEquals(2, stats.get(PeerCounter.FWD_PACKETS));
        assertEquals(140, stats.get(PeerCounter.FWD_BYTES));
        assertEquals(1, stats.get(PeerCounter.ENDPOINT_RELEARN));
        assertEquals(9_000, stats.lastSeenMillis());
        assertEquals(9_000, stats.get(PeerCounter.LAST_SEEN_MILLIS));
        assertEquals(0, new PeerStats(1).lastSeenMillis());
    }
}
