package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.wgrelay.server.TestPackets;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.pipeline.OutboundDatagram;
import org.wgrelay.server.pipeline.RelayChannelInitializer;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * A relay with roaming on {@link EmbeddedChannel}s: a real roster service and file, a
 * clock the test drives, and the owner thread's work run inline (so a commit has happened
 * when the packet that decided it has been handled). Alice and bob are linked and
 * stamped; datagrams carry valid MAC1s where the relay checks them.
 */
final class RoamingHarness implements AutoCloseable {
    static final InetSocketAddress RELAY = address("198.51.100.1", 51820);
    static final InetSocketAddress ALICE = address("203.0.113.10", 40000);
    static final InetSocketAddress ALICE_NEW = address("203.0.113.77", 41000);
    static final InetSocketAddress BOB = address("192.0.2.20", 50000);
    static final InetSocketAddress MALLORY = address("198.18.0.66", 6666);
    static final String ALICE_KEY = key(1);
    static final String BOB_KEY = key(2);

    final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    final RelayCounters counters = new RelayCounters(2);
    final ForwardingTableHolder tables = new ForwardingTableHolder(ForwardingTable.EMPTY);
    final Blocklist blocklist = new Blocklist();
    final StrikeTable strikes = new StrikeTable();
    final List<String> events = new ArrayList<>();
    final Path dir;
    final RosterService roster;
    final RoamingEngine engine;
    final WorkerState state0 = new WorkerState(0, counters, clock::get);
    final WorkerState state1 = new WorkerState(1, counters, clock::get);
    final EmbeddedChannel worker0;
    final EmbeddedChannel worker1;
    private final Random random = new Random(7);

    /** Roaming's owner work runs inline, at once, on whichever thread hands it over. */
    RoamingHarness() throws Exception {
        this(Runnable::run);
    }

    /** Roaming's owner work goes to {@code owner} (a queue a test drains, or one that refuses). */
    RoamingHarness(Executor owner) throws Exception {
        this(owner, 1);
    }

    /** As above, for a relay whose peers may be in {@code maxLinksPerPeer} links (SPEC B). */
    RoamingHarness(Executor owner, int maxLinksPerPeer) throws Exception {
        dir = Files.createTempDirectory("roaming");
        roster = new RosterService(Roster.empty(maxLinksPerPeer), new RosterFile(dir.resolve("wg-roster")), tables, 2);
        assertTrue(roster.addPeer("alice", ep(ALICE), ALICE_KEY, null).ok());
        assertTrue(roster.addPeer("bob", ep(BOB), BOB_KEY, null).ok());
        assertTrue(roster.addLink("alice", "bob").ok());
        engine = new RoamingEngine(
                tables,
                roster,
                blocklist,
                strikes,
                counters,
                clock::get,
                (event, data) -> events.add(event + " " + data),
                owner);
        worker0 = channel(state0);
        worker1 = channel(state1);
    }

    private EmbeddedChannel channel(WorkerState state) {
        EmbeddedChannel ch = new EmbeddedChannel();
        boolean hubLinks = roster.roster().maxLinksPerPeer() > 1;
        RelayChannelInitializer.addStages(ch.pipeline(), state, tables, blocklist, engine, engine, hubLinks, false);
        return ch;
    }

    static Endpoint ep(InetSocketAddress a) {
        return Endpoint.of(a.getAddress(), a.getPort());
    }

    static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static String key(int seed) {
        byte[] k = new byte[32];
        for (int i = 0; i < 32; i++) {
            k[i] = (byte) (seed * 31 + i * 3);
        }
        return Base64.getEncoder().encodeToString(k);
    }

    // ---- datagrams ----------------------------------------------------------------

    /** A type-1 with {@code senderIndex}, MAC1 made for {@code responderKey}. */
    ByteBuf init(int senderIndex, String responderKey) {
        ByteBuf b = body(1, 148);
        b.setIntLE(4, senderIndex);
        return TestPackets.withMac1(b, responderKey);
    }

    /** A type-2 with sender and receiver index, MAC1 made for {@code responderKey}. */
    ByteBuf response(int senderIndex, int receiverIndex, String responderKey) {
        ByteBuf b = body(2, 92);
        b.setIntLE(4, senderIndex);
        b.setIntLE(8, receiverIndex);
        return TestPackets.withMac1(b, responderKey);
    }

    /** A type-4 to {@code receiverIndex}. */
    ByteBuf transport(int receiverIndex) {
        ByteBuf b = body(4, 64);
        b.setIntLE(4, receiverIndex);
        return b;
    }

    ByteBuf cookie() {
        return body(3, 64);
    }

    /** A cookie reply to {@code receiverIndex}. */
    ByteBuf cookie(int receiverIndex) {
        ByteBuf b = body(3, 64);
        b.setIntLE(4, receiverIndex);
        return b;
    }

    private ByteBuf body(int type, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type);
        return Unpooled.wrappedBuffer(bytes);
    }

    // ---- driving ------------------------------------------------------------------

    void receive(EmbeddedChannel worker, ByteBuf payload, InetSocketAddress from) {
        assertFalse(worker.writeInbound(new DatagramPacket(payload, RELAY, from)));
    }

    void receive(ByteBuf payload, InetSocketAddress from) {
        receive(worker0, payload, from);
    }

    /** Every datagram the workers sent, by recipient, in order; released. */
    List<InetSocketAddress> sent() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (EmbeddedChannel ch : List.of(worker0, worker1)) {
            for (Object o; (o = ch.readOutbound()) != null; ) {
                OutboundDatagram p = (OutboundDatagram) o;
                out.add(p.recipient());
                p.release();
            }
        }
        return out;
    }

    void advance(long millis) {
        clock.addAndGet(millis);
    }

    long count(RelayCounter c) {
        return counters.get(c);
    }

    long peerCount(String peer, PeerCounter c) {
        return roster.statsOf(peer).get(c);
    }

    Endpoint endpointOf(String peer) {
        return roster.roster().peer(peer).endpoint();
    }

    String fileText() throws IOException {
        return Files.readString(dir.resolve("wg-roster"));
    }

    @Override
    public void close() throws IOException {
        assertFalse(worker0.finishAndReleaseAll());
        assertFalse(worker1.finishAndReleaseAll());
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
