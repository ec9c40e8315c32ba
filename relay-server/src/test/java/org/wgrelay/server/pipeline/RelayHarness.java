package org.wgrelay.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.PeerRuntime;

/**
 * One worker's full pipeline on an {@link EmbeddedChannel}, built by
 * {@link RelayChannelInitializer#addStages}, with a roster, a fixed clock, a blocklist and
 * the worker's counters — everything a datagram's verdict depends on.
 */
final class RelayHarness {
    static final InetSocketAddress RELAY = address("198.51.100.1", 51820);
    static final long START_MILLIS = 1_700_000_000_000L;

    final AtomicLong clock = new AtomicLong(START_MILLIS);
    final RelayCounters counters = new RelayCounters(1);
    final WorkerState worker = new WorkerState(0, counters, clock::get);
    final Blocklist blocklist = new Blocklist();
    final Map<String, PeerStats> stats = new HashMap<>();
    final Map<String, PeerRuntime> runtimes = new HashMap<>();
    final ForwardingTableHolder tables = new ForwardingTableHolder(ForwardingTable.EMPTY);
    final EmbeddedChannel channel = new EmbeddedChannel();
    Roster roster = Roster.EMPTY;

    RelayHarness(boolean traceForwardHashes) {
        RelayChannelInitializer.addStages(
                channel.pipeline(), worker, tables, blocklist, new DropUnknownSources(), traceForwardHashes);
    }

    RelayHarness() {
        this(false);
    }

    static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A deterministic 32-byte public key in base64. */
    static String pubkey(int seed) {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (seed * 7 + i * 13);
        }
        return Base64.getEncoder().encodeToString(key);
    }

    /** Applies a roster change that must succeed and publishes the new table. */
    RelayHarness change(Function<Roster, RosterChange> f) {
        RosterChange c = f.apply(roster);
        assertTrue(c.ok(), c.message());
        roster = c.roster();
        tables.publish(ForwardingTable.build(
                roster,
                name -> runtimes.computeIfAbsent(
                        name, n -> new PeerRuntime(stats.computeIfAbsent(n, m -> new PeerStats(1))))));
        return this;
    }

    RelayHarness peer(String name, InetSocketAddress endpoint) {
        return peer(name, endpoint, null);
    }

    RelayHarness peer(String name, InetSocketAddress endpoint, String pubkey) {
        return change(r -> r.addPeer(name, Endpoint.of(endpoint.getAddress(), endpoint.getPort()), pubkey, null));
    }

    RelayHarness link(String a, String b) {
        return change(r -> r.addLink(a, b));
    }

    /** Hands one datagram to the pipeline, as the socket would; nothing may reach the tail. */
    DatagramPacket receive(ByteBuf payload, InetSocketAddress sender) {
        DatagramPacket packet = new DatagramPacket(payload, RELAY, sender);
        assertFalse(channel.writeInbound(packet), "nothing passes the pipeline inbound");
        return packet;
    }

    /** The one forwarded datagram, which must be there. The caller releases it. */
    OutboundDatagram forwarded() {
        OutboundDatagram out = channel.readOutbound();
        assertNotNull(out, "a datagram was forwarded");
        return out;
    }

    long count(RelayCounter counter) {
        return counters.get(counter);
    }

    /** Every verdict the pipeline can give a datagram: forwarded or one drop reason. */
    long verdicts() {
        long sum = 0;
        for (RelayCounter c : RelayCounter.values()) {
            if (c != RelayCounter.RX_PACKETS) {
                sum += counters.get(c);
            }
        }
        return sum;
    }

    void assertOneVerdictPerDatagram() {
        assertEquals(count(RelayCounter.RX_PACKETS), verdicts(), "each datagram gets exactly one verdict");
    }

    /** The worker's per-source drop row for {@code ip}, or null. */
    DropSourceTable.Row dropRow(InetAddress ip) {
        for (DropSourceTable.Row row : worker.dropSources().snapshot()) {
            if (row.ip().equals(ip)) {
                return row;
            }
        }
        return null;
    }

    PeerStats statsOf(String name) {
        return stats.get(name);
    }
}
