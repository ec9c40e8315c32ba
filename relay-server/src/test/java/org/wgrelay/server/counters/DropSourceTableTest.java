package org.wgrelay.server.counters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code wg show drop_sources}: at most 256 source IPs, least recently seen evicted first. */
class DropSourceTableTest {

    static InetAddress ip(int n) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) 198, 51, (byte) (n >> 8), (byte) n});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static DropSourceTable.Row row(List<DropSourceTable.Row> rows, InetAddress ip) {
        for (DropSourceTable.Row r : rows) {
            if (r.ip().equals(ip)) {
                return r;
            }
        }
        return null;
    }

    @Test
    void countsEachPerSourceReasonAndTheLastTimeTheSourceWasSeen() throws Exception {
        DropSourceTable table = new DropSourceTable();
        InetAddress v6 = InetAddress.getByName("2001:db8::1");
        table.record(ip(1), RelayCounter.DROP_UNKNOWN_SRC, 10);
        table.record(ip(1), RelayCounter.DROP_UNKNOWN_SRC, 20);
        table.record(ip(1), RelayCounter.DROP_NOT_WG_SHAPED, 30);
        table.record(ip(1), RelayCounter.DROP_HANDSHAKE_RATE_LIMITED, 22);
        table.record(ip(1), RelayCounter.DROP_HANDSHAKE_RATE_LIMITED, 24);
        table.record(ip(1), RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH, 25);
        table.record(v6, RelayCounter.DROP_NOT_WG_SHAPED, 40);

        List<DropSourceTable.Row> rows = table.snapshot();
        DropSourceTable.Row one = row(rows, ip(1));
        assertEquals(2, one.unknownSource());
        assertEquals(1, one.notWgShaped());
        assertEquals(1, one.noPubkeyMatch());
        assertEquals(2, one.handshakeRateLimited());
        assertEquals(25, one.lastSeenMillis(), "the time of the latest drop recorded");
        assertEquals(1, row(rows, v6).notWgShaped());
        assertEquals(2, table.size());
    }

    @Test
    void refusesReasonsThatAreNotCountedPerSource() {
        DropSourceTable table = new DropSourceTable();
        for (RelayCounter reason : new RelayCounter[] {
            RelayCounter.DROP_NO_LINK,
            RelayCounter.DROP_BLOCKLISTED,
            RelayCounter.RX_PACKETS,
            RelayCounter.FWD_PACKETS,
            RelayCounter.DROP_HANDSHAKE_PUBKEY_MISMATCH
        }) {
            assertThrows(IllegalArgumentException.class, () -> table.record(ip(1), reason, 1), reason.key());
        }
    }

    @Test
    void holdsAtMost256SourcesAndEvictsTheLeastRecentlySeen() {
        DropSourceTable table = new DropSourceTable();
        for (int i = 0; i < 300; i++) {
            table.record(ip(i), RelayCounter.DROP_UNKNOWN_SRC, i);
        }
        assertEquals(DropSourceTable.CAPACITY, table.size());
        assertEquals(256, DropSourceTable.CAPACITY);
        List<DropSourceTable.Row> rows = table.snapshot();
        for (int i = 0; i < 44; i++) {
            assertNull(row(rows, ip(i)), "evicted " + i);
        }
        for (int i = 44; i < 300; i++) {
            assertNotNull(row(rows, ip(i)), "kept " + i);
        }
    }

    @Test
    void keepsASourceThatIsSeenAgainAndEvictsTheNextOldestInstead() {
        DropSourceTable table = new DropSourceTable();
        for (int i = 0; i < 256; i++) {
            table.record(ip(i), RelayCounter.DROP_UNKNOWN_SRC, i);
        }
        table.record(ip(0), RelayCounter.DROP_NOT_WG_SHAPED, 1_000);

        table.record(ip(256), RelayCounter.DROP_UNKNOWN_SRC, 1_001);

        List<DropSourceTable.Row> rows = table.snapshot();
        assertEquals(256, rows.size());
        DropSourceTable.Row kept = row(rows, ip(0));
        assertNotNull(kept, "the re-seen source stays");
        assertEquals(1, kept.unknownSource(), "with its counts");
        assertEquals(1, kept.notWgShaped());
        assertNull(row(rows, ip(1)), "the least recently seen goes");
        assertNotNull(row(rows, ip(256)));
    }

    @Test
    void aSnapshotIsACopyThatLaterDropsDoNotChange() {
        DropSourceTable table = new DropSourceTable();
        table.record(ip(1), RelayCounter.DROP_UNKNOWN_SRC, 1);
        List<DropSourceTable.Row> snapshot = table.snapshot();
        table.record(ip(1), RelayCounter.DROP_UNKNOWN_SRC, 2);
        table.record(ip(2), RelayCounter.DROP_UNKNOWN_SRC, 2);
        assertEquals(1, snapshot.size());
        assertEquals(1, snapshot.get(0).unknownSource());
        assertEquals(1, snapshot.get(0).lastSeenMillis());
    }

    @Test
    void mergesWorkersBySummingPerIpAndKeepingTheLatestLastSeen() {
        DropSourceTable w0 = new DropSourceTable();
        DropSourceTable w1 = new DropSourceTable();
        w0.record(ip(1), RelayCounter.DROP_HANDSHAKE_RATE_LIMITED, 90);
        w0.record(ip(1), RelayCounter.DROP_UNKNOWN_SRC, 100);
        w0.record(ip(2), RelayCounter.DROP_NOT_WG_SHAPED, 50);
        w1.record(ip(1), RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH, 200);
        w1.record(ip(1), RelayCounter.DROP_HANDSHAKE_RATE_LIMITED, 250);
        w1.record(ip(1), RelayCounter.DROP_UNKNOWN_SRC, 300);

        List<DropSourceTable.Row> merged = DropSourceTable.merge(List.of(w0.snapshot(), w1.snapshot()));

        assertEquals(2, merged.size());
        assertEquals(ip(1), merged.get(0).ip(), "most recently seen first");
        assertEquals(2, merged.get(0).unknownSource());
        assertEquals(1, merged.get(0).noPubkeyMatch());
        assertEquals(2, merged.get(0).handshakeRateLimited());
        assertEquals(300, merged.get(0).lastSeenMillis());
        assertEquals(ip(2), merged.get(1).ip());
        assertEquals(1, merged.get(1).notWgShaped());
        assertEquals(100, row(w0.snapshot(), ip(1)).lastSeenMillis(), "merging does not change the workers' rows");
    }

    @Test
    void capsAMergeOfManyWorkersAtThe256MostRecentlySeen() {
        List<List<DropSourceTable.Row>> perWorker = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            DropSourceTable t = new DropSourceTable();
            for (int i = 0; i < 256; i++) {
                int n = w * 200 + i; // overlapping ranges: 0..255, 200..455, 400..655, 600..855
                t.record(ip(n), RelayCounter.DROP_UNKNOWN_SRC, 10_000 + n);
            }
            perWorker.add(t.snapshot());
        }

        List<DropSourceTable.Row> merged = DropSourceTable.merge(perWorker);

        assertEquals(256, merged.size());
        Set<InetAddress> ips = new HashSet<>();
        long previous = Long.MAX_VALUE;
        for (DropSourceTable.Row r : merged) {
            ips.add(r.ip());
            assertTrue(r.lastSeenMillis() <= previous, "sorted most recent first");
            previous = r.lastSeenMillis();
        }
        for (int n = 855 - 255; n <= 855; n++) {
            assertTrue(ips.contains(ip(n)), "kept " + n);
        }
        assertEquals(2, row(merged, ip(600)).unknownSource(), "600..655 were seen by two workers");
    }

    @Test
    void mergesNothingToNothing() {
        assertEquals(List.of(), DropSourceTable.merge(List.of()));
        assertEquals(List.of(), DropSourceTable.merge(List.of(List.of(), List.of())));
    }

    private static void assertTrue(boolean condition, String message) {
        org.junit.jupiter.api.Assertions.assertTrue(condition, message);
    }
}
