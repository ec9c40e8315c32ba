package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.wgrelay.server.LeakReports;
import org.wgrelay.server.TestPackets;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.pipeline.OutboundDatagram;
import org.wgrelay.server.pipeline.RelayChannelInitializer;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * Coverage-guided fuzzing of the whole datagram pipeline with roaming (issue #15): two workers
 * on {@link EmbeddedChannel}s in front of a roster with stamped and unstamped links, a peer
 * without an endpoint (SPEC E), an unlinked peer and — when the input asks for hub links — a
 * hub with three spokes (SPEC B). The input chooses, datagram by datagram, the worker, the
 * source (a registered endpoint, an unknown one, an IPv4 peer seen as a v4-mapped IPv6
 * address), the type word, the length, the indices (from a small pool, so that handshakes and
 * their answers meet) and sometimes a valid MAC1 for one of the stamped keys; between
 * datagrams it advances the clock (the owner's sweep runs) or changes the roster as a verb
 * would.
 *
 * <p>Invariants, after every datagram: it got exactly one verdict ({@code rx_packets} +1 and
 * {@code fwd_packets} plus the drop counters +1, {@code drop_relearn_unconfirmed} aside, which
 * counts candidates, not datagrams); nothing threw ({@code tx_errors}, where the pipeline's
 * tail counts exceptions, stays 0 — an {@code EmbeddedChannel} is always writable); what went
 * out is the datagram byte for byte, once per {@code fwd_packets} plus at most rule 8's copy
 * of a type 2, and only to an address the roster or a sender named; and its buffer was
 * released (reference count 0). Netty's leak detector runs at PARANOID and must report
 * nothing. Owner work (roaming follow-ups, commits) runs inline, so every input replays
 * exactly.
 */
class DatagramPipelineFuzzTest {
    private static final InetSocketAddress RELAY = address("198.51.100.1", 51820);
    private static final int MAX_OPS = 96;
    private static final String[] KEYS = new String[12];
    /** The indices a datagram's sender and receiver fields take most of the time. */
    private static final int[] INDICES = {0, 1, 0x1234, 0xdeadbeef};

    static {
        LeakReports.install();
        for (int i = 0; i < KEYS.length; i++) {
            KEYS[i] = RoamingHarness.key(i + 1);
        }
    }

    private static final List<InetSocketAddress> UNKNOWN = List.of(
            address("198.18.0.66", 6666),
            address("198.18.0.67", 6667),
            address("203.0.113.77", 41000),
            address("2001:db8:ffff::66", 6666));

    // One relay per input (the fuzzer reuses this instance): made afresh by start().
    private AtomicLong clock;
    private RelayCounters counters;
    private ForwardingTableHolder tables;
    private Blocklist blocklist;
    /** Every address a datagram may legitimately go to: endpoints the roster held, sources seen. */
    private Set<InetSocketAddress> named;

    private Path dir;
    private RosterService roster;
    private RoamingEngine engine;
    private EmbeddedChannel[] workers;

    @FuzzTest
    void everyDatagramGetsOneVerdictAndNoBufferLeaks(FuzzedDataProvider data) throws Exception {
        boolean hubLinks = data.consumeBoolean();
        dir = Files.createTempDirectory(Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : null, "fuzz");
        try {
            start(hubLinks);
            for (int op = 0; op < MAX_OPS && data.remainingBytes() > 0; op++) {
                int what = data.consumeInt(0, 11);
                if (what <= 8) {
                    datagram(data);
                } else if (what == 9) {
                    clock.addAndGet(data.consumeLong(0, 40_000));
                    engine.sweep();
                } else {
                    changeRoster(data);
                }
            }
            for (EmbeddedChannel w : workers) {
                assertFalse(w.finishAndReleaseAll(), "nothing left in a worker");
            }
            LeakReports.assertNone();
        } finally {
            deleteDir();
        }
    }

    // ---- the relay ----------------------------------------------------------------------

    private void start(boolean hubLinks) {
        clock = new AtomicLong(1_700_000_000_000L);
        counters = new RelayCounters(2);
        tables = new ForwardingTableHolder(ForwardingTable.EMPTY);
        blocklist = new Blocklist();
        named = new HashSet<>();
        Roster r = Roster.empty(hubLinks ? 4 : 1);
        r = ok(r, x -> x.addPeer("alice", ep("203.0.113.10", 40000), KEYS[0], null));
        r = ok(r, x -> x.addPeer("bob", ep("192.0.2.20", 50000), KEYS[1], null));
        r = ok(r, x -> x.addPeer("carol", ep("2001:db8::3", 3000), KEYS[2], "v6"));
        r = ok(r, x -> x.addPeer("dave", null, KEYS[3], "no endpoint yet"));
        r = ok(r, x -> x.addPeer("erin", ep("198.51.100.5", 5000), null, null));
        r = ok(r, x -> x.addPeer("frank", ep("198.51.100.6", 6000), null, null));
        r = ok(r, x -> x.addPeer("gina", ep("192.0.2.77", 7000), KEYS[6], "unlinked"));
        r = ok(r, x -> x.addLink("alice", "bob"));
        r = ok(r, x -> x.addLink("carol", "dave"));
        r = ok(r, x -> x.addLink("erin", "frank"));
        if (hubLinks) {
            r = ok(r, x -> x.addPeer("hub", ep("10.0.0.1", 51820), KEYS[7], null));
            r = ok(r, x -> x.addPeer("s1", ep("10.0.1.1", 1001), KEYS[8], null));
            r = ok(r, x -> x.addPeer("s2", null, KEYS[9], null));
            r = ok(r, x -> x.addPeer("s3", ep("2001:db8::13", 1003), KEYS[10], null));
            r = ok(r, x -> x.addLink("hub", "s1"));
            r = ok(r, x -> x.addLink("hub", "s2"));
            r = ok(r, x -> x.addLink("s3", "hub"));
        }
        roster = new RosterService(r, new RosterFile(dir.resolve("wg-roster")), tables, 2);
        engine = new RoamingEngine(
                tables, roster, blocklist, new StrikeTable(), counters, clock::get, (e, d) -> {}, Runnable::run);
        workers = new EmbeddedChannel[2];
        for (int i = 0; i < workers.length; i++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            RelayChannelInitializer.addStages(
                    ch.pipeline(),
                    new WorkerState(i, counters, clock::get),
                    tables,
                    blocklist,
                    engine,
                    engine,
                    hubLinks,
                    false);
            workers[i] = ch;
        }
        noteEndpoints();
    }

    private void noteEndpoints() {
        for (PeerEntry p : roster.roster().peers()) {
            if (p.endpoint() != null) {
                named.add(p.endpoint().socketAddress());
            }
        }
    }

    /** A change a verb could make; rejected ones must leave the roster as it was. */
    private void changeRoster(FuzzedDataProvider data) {
        List<String> names = new ArrayList<>();
        for (PeerEntry p : roster.roster().peers()) {
            names.add(p.name());
        }
        if (names.isEmpty()) {
            return; // every peer removed: nothing left to change
        }
        String a = data.pickValue(names);
        String b = data.pickValue(names);
        Roster before = roster.roster();
        RosterChange change;
        switch (data.consumeInt(0, 4)) {
            case 0 -> {
                InetSocketAddress to = source(data);
                change = roster.updateEndpoint(
                        a, data.consumeBoolean() ? null : Endpoint.of(to.getAddress(), to.getPort()));
            }
            case 1 -> change = roster.removeLink(a, b);
            case 2 -> change = roster.addLink(a, b);
            case 3 -> change = roster.setPubkey(a, KEYS[data.consumeInt(0, KEYS.length - 1)]);
            default -> change = roster.removePeer(a);
        }
        if (!change.ok()) {
            assertEquals(before, roster.roster(), "a rejected change changes nothing: " + change.message());
        }
        noteEndpoints();
    }

    // ---- one datagram -----------------------------------------------------------------

    private void datagram(FuzzedDataProvider data) {
        EmbeddedChannel worker = workers[data.consumeBoolean() ? 1 : 0];
        InetSocketAddress from = source(data);
        byte[] bytes = payload(data);
        ByteBuf buf = Unpooled.buffer(bytes.length).writeBytes(bytes);
        named.add(from);
        named.add(new InetSocketAddress(Endpoint.normalise(from.getAddress()), from.getPort())); // as a candidate

        Map<RelayCounter, Long> before = snapshot();
        assertFalse(worker.writeInbound(new DatagramPacket(buf, RELAY, from)), "nothing reaches the tail");
        Map<RelayCounter, Long> after = snapshot();

        long forwarded = delta(before, after, RelayCounter.FWD_PACKETS);
        long verdicts = 0;
        for (RelayCounter c : RelayCounter.values()) {
            if (c != RelayCounter.RX_PACKETS && c != RelayCounter.DROP_RELEARN_UNCONFIRMED) {
                verdicts += delta(before, after, c);
            }
        }
        assertEquals(1, delta(before, after, RelayCounter.RX_PACKETS), "rx_packets counts it once");
        assertEquals(1, verdicts, () -> "exactly one verdict for a datagram from " + from + ": " + diff(before, after));
        assertEquals(0, delta(before, after, RelayCounter.TX_ERRORS), "no stage threw");

        int sent = 0;
        for (Object o; (o = worker.readOutbound()) != null; ) {
            OutboundDatagram out = (OutboundDatagram) o;
            try {
                sent++;
                assertArrayEquals(bytes, ByteBufUtil.getBytes(out.content()), "forwarded byte for byte");
                assertTrue(
                        named.contains(out.recipient()), () -> "sent to an address nobody named: " + out.recipient());
            } finally {
                out.release();
            }
        }
        boolean mirrorAllowed = bytes.length >= 4 && bytes[0] == 2 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0;
        assertTrue(
                sent == forwarded || (mirrorAllowed && sent == forwarded + 1),
                () -> "datagrams out match fwd_packets (plus rule 8's copy of a type 2): " + forwarded);
        assertEquals(0, buf.refCnt(), "the datagram's buffer was released exactly once");
    }

    /** A registered endpoint (as it is now, or a v4 one seen as a v4-mapped IPv6 address), or an unknown one. */
    private InetSocketAddress source(FuzzedDataProvider data) {
        int kind = data.consumeInt(0, 5);
        if (kind <= 2) {
            List<InetSocketAddress> endpoints = new ArrayList<>();
            for (PeerEntry p : roster.roster().peers()) {
                if (p.endpoint() != null) {
                    endpoints.add(p.endpoint().socketAddress());
                }
            }
            if (!endpoints.isEmpty()) {
                InetSocketAddress e = data.pickValue(endpoints);
                return kind == 2 ? v4Mapped(e) : e;
            }
        }
        if (kind == 5) {
            return address("192.0.2." + data.consumeInt(1, 254), data.consumeInt(1, 65535));
        }
        return data.pickValue(UNKNOWN);
    }

    /**
     * A type word (1-4 mostly, anything sometimes), a length (the shaped one mostly), indices
     * from a small pool mostly, the rest from the input; sometimes a valid MAC1 for a stamped key.
     */
    private static byte[] payload(FuzzedDataProvider data) {
        int choice = data.consumeInt(0, 4);
        int type = choice == 0 ? data.consumeInt() : choice;
        int length;
        if (choice != 0 && data.consumeBoolean()) {
            length = TestPackets.shapedLength(type) + (type == 4 ? data.consumeInt(0, 64) : 0);
        } else {
            length = data.consumeInt(0, 200);
        }
        byte[] b = new byte[length];
        byte[] fill = data.consumeBytes(length);
        System.arraycopy(fill, 0, b, 0, fill.length);
        for (int i = 0; i < Math.min(4, length); i++) {
            b[i] = (byte) (type >>> (8 * i));
        }
        for (int offset = 4; offset + 4 <= Math.min(12, length); offset += 4) {
            int index = data.consumeBoolean() ? INDICES[data.consumeInt(0, INDICES.length - 1)] : data.consumeInt();
            for (int i = 0; i < 4; i++) {
                b[offset + i] = (byte) (index >>> (8 * i));
            }
        }
        int mac1 = data.consumeInt(0, KEYS.length + 2);
        if (length >= 32 && mac1 < KEYS.length) {
            ByteBuf withMac = TestPackets.withMac1(Unpooled.wrappedBuffer(b), KEYS[mac1]);
            withMac.release(); // wraps b, whose bytes now carry the MAC1
        }
        return b;
    }

    // ---- helpers ------------------------------------------------------------------------

    private Map<RelayCounter, Long> snapshot() {
        Map<RelayCounter, Long> m = new EnumMap<>(RelayCounter.class);
        for (RelayCounter c : RelayCounter.values()) {
            m.put(c, counters.get(c));
        }
        return m;
    }

    private static long delta(Map<RelayCounter, Long> before, Map<RelayCounter, Long> after, RelayCounter c) {
        return after.get(c) - before.get(c);
    }

    private static String diff(Map<RelayCounter, Long> before, Map<RelayCounter, Long> after) {
        StringBuilder sb = new StringBuilder();
        for (RelayCounter c : RelayCounter.values()) {
            long d = delta(before, after, c);
            if (d != 0) {
                sb.append(c.key()).append(" +").append(d).append(' ');
            }
        }
        return sb.toString();
    }

    private static Roster ok(Roster r, Function<Roster, RosterChange> f) {
        RosterChange c = f.apply(r);
        assertTrue(c.ok(), c.message());
        return c.roster();
    }

    private static Endpoint ep(String ip, int port) {
        InetSocketAddress a = address(ip, port);
        return Endpoint.of(a.getAddress(), a.getPort());
    }

    private static InetSocketAddress v4Mapped(InetSocketAddress a) {
        byte[] v4 = a.getAddress().getAddress();
        if (v4.length != 4) {
            return a;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4, 0, mapped, 12, 4);
        try {
            return new InetSocketAddress(Inet6Address.getByAddress(null, mapped, -1), a.getPort());
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private void deleteDir() throws IOException {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
