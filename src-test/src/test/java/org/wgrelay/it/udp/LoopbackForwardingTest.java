package org.wgrelay.it.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.control.LocalRelay.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.wgrelay.it.control.LocalRelay;
import org.wgrelay.it.netns.UdpSnmp;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.roster.Endpoint;

/**
 * The relay daemon on loopback with real UDP sockets: forwarding in both directions,
 * every drop counter this path produces, the per-source drop table's bound and
 * eviction, and the trace line pairs.
 */
class LoopbackForwardingTest {
    private static final String KEY_A = Base64.getEncoder().encodeToString(new byte[32]);
    private static final String KEY_B = Base64.getEncoder().encodeToString(new byte[] {
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
        31, 32
    });
    private final Random random = new Random(42);
    private LocalRelay relay;

    @AfterEach
    void stopRelay() throws Exception {
        if (relay != null) {
            relay.close();
        }
    }

    private static DatagramSocket socket(String ip) throws Exception {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(ip), 0));
        s.setSoTimeout(5000);
        return s;
    }

    private static Endpoint endpointOf(DatagramSocket s) {
        return Endpoint.of(s.getLocalAddress(), s.getLocalPort());
    }

    private static DatagramPacket receive(DatagramSocket s) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
        s.receive(p);
        return p;
    }

    private void send(DatagramSocket from, byte[] payload, InetSocketAddress to) throws Exception {
        from.send(new DatagramPacket(payload, payload.length, to));
    }

    private Map<String, Object> peer(String name) {
        return relay.daemon.status().peers().stream()
                .filter(p -> p.get("name").equals(name))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void forwardsEveryMessageTypeBothWaysByteForByteFromTheRelayPort() throws Exception {
        relay = LocalRelay.loopback("127.0.0.1", 2, false);
        try (DatagramSocket alice = socket("127.0.0.1");
                DatagramSocket bob = socket("127.0.0.1")) {
            assertTrue(relay.daemon
                    .roster()
                    .addPeer("alice", endpointOf(alice), null, "laptop")
                    .ok());
            assertTrue(relay.daemon
                    .roster()
                    .addPeer("bob", endpointOf(bob), null, null)
                    .ok());
            assertTrue(relay.daemon.roster().addLink("alice", "bob").ok());
            InetSocketAddress relayAddr = relay.udpAddress("127.0.0.1");

            List<byte[]> aliceToBob = List.of(
                    WgDatagrams.initiation(random),
                    WgDatagrams.cookie(random),
                    WgDatagrams.transport(32, random),
                    WgDatagrams.transport(1452, random),
                    WgDatagrams.transport(9000, random));
            for (byte[] payload : aliceToBob) {
                send(alice, payload, relayAddr);
                DatagramPacket got = receive(bob);
                assertArrayEquals(payload, Arrays.copyOf(got.getData(), got.getLength()));
                assertEquals(relayAddr, got.getSocketAddress(), "the relay forwards from its own port");
            }
            byte[] back = WgDatagrams.response(random);
            send(bob, back, relayAddr);
            DatagramPacket got = receive(alice);
            assertArrayEquals(back, Arrays.copyOf(got.getData(), got.getLength()));

            await("counters", () -> relay.show("fwd_packets") == 6);
            assertEquals(6, relay.show("rx_packets"));
            Map<String, Object> a = peer("alice");
            assertEquals(5L, a.get("rx_packets"));
            assertEquals(5L, a.get("fwd_packets"));
            long bytes = aliceToBob.stream().mapToLong(p -> p.length).sum();
            assertEquals(bytes, a.get("rx_bytes"));
            assertEquals(bytes, a.get("fwd_bytes"));
            assertEquals("bob", a.get("linked_to"));
            assertEquals("laptop", a.get("label"));
            assertEquals(1L, peer("bob").get("fwd_packets"));
            assertTrue(a.get("last_seen").toString().endsWith("Z"));
        }
    }

    @Test
    void countsEachDropReasonOnceAndForwardsNothingItDrops() throws Exception {
        relay = LocalRelay.loopback("127.0.0.1", 2, false);
        try (DatagramSocket alice = socket("127.0.0.1");
                DatagramSocket bob = socket("127.0.0.1");
                DatagramSocket carol = socket("127.0.0.1");
                DatagramSocket stranger = socket("127.0.0.3");
                DatagramSocket blocked = socket("127.0.0.4")) {
            relay.daemon.roster().addPeer("alice", endpointOf(alice), null, null);
            relay.daemon.roster().addPeer("bob", endpointOf(bob), null, null);
            relay.daemon.roster().addPeer("carol", endpointOf(carol), null, null);
            relay.daemon.roster().addLink("alice", "bob");
            relay.daemon.blocklist().block(InetAddress.getByName("127.0.0.4"), relay.clock.get() + 60_000, 2);
            InetSocketAddress relayAddr = relay.udpAddress("127.0.0.1");

            send(stranger, WgDatagrams.transport(64, random), relayAddr); // drop_unknown_src
            send(stranger, WgDatagrams.response(random), relayAddr); // drop_unknown_src
            send(stranger, WgDatagrams.initiation(random), relayAddr); // drop_handshake_no_pubkey_match
            send(alice, new byte[] {4, 0, 0, 0, 1}, relayAddr); // drop_not_wg_shaped (too short)
            send(alice, WgDatagrams.shaped(0x0104, 64, random), relayAddr); // reserved byte set
            send(carol, WgDatagrams.transport(64, random), relayAddr); // drop_no_link
            send(blocked, WgDatagrams.transport(64, random), relayAddr); // drop_blocklisted

            // rx_packets is counted before the verdict, so wait for the verdicts themselves.
            await(
                    "seven verdicts",
                    () -> relay.show("drop_unknown_src")
                                    + relay.show("drop_handshake_no_pubkey_match")
                                    + relay.show("drop_not_wg_shaped")
                                    + relay.show("drop_no_link")
                                    + relay.show("drop_blocklisted")
                            == 7);
            assertEquals(7, relay.show("rx_packets"));
            assertEquals(2, relay.show("drop_unknown_src"));
            assertEquals(1, relay.show("drop_handshake_no_pubkey_match"));
            assertEquals(2, relay.show("drop_not_wg_shaped"));
            assertEquals(1, relay.show("drop_no_link"));
            assertEquals(1, relay.show("drop_blocklisted"));
            assertEquals(0, relay.show("fwd_packets"));
            assertEquals(1L, peer("carol").get("drop_no_link"));
            assertEquals(1L, peer("carol").get("rx_packets"));
            assertEquals(0L, peer("alice").get("rx_packets"), "unshaped datagrams are not the peer's rx");

            Map<String, DropSourceTable.Row> bySource = relay.daemon.udp().dropSources().stream()
                    .collect(Collectors.toMap(r -> r.ip().getHostAddress(), r -> r));
            assertEquals(2, bySource.get("127.0.0.3").unknownSource());
            assertEquals(1, bySource.get("127.0.0.3").noPubkeyMatch());
            assertEquals(2, bySource.get("127.0.0.1").notWgShaped());
            assertEquals(2, bySource.size(), "blocklisted and no-link drops are not per-source drops");

            // Once the block expires, the same source is just an unknown source.
            relay.clock.addAndGet(60_001);
            send(blocked, WgDatagrams.transport(64, random), relayAddr);
            await("expired block", () -> relay.show("drop_unknown_src") == 3);
            assertEquals(1, relay.show("drop_blocklisted"));
            bob.setSoTimeout(200);
            try {
                DatagramPacket leaked = receive(bob);
                throw new AssertionError("a dropped datagram reached bob: " + leaked.getLength() + " bytes");
            } catch (SocketTimeoutException expected) {
                // nothing was forwarded
            }
        }
    }

    /**
     * SPEC section A on real sockets: 50,000 forged initiations (random MAC1s) from one source at
     * 10 kpps, the relay's clock driven at the same pace, against two stamped, linked peers. Every
     * one that reached the relay is counted as a searched-and-unmatched or a rate-limited
     * handshake — none as an unknown source — and none is forwarded. At most 4 a second are
     * searched.
     */
    @Test
    void aFloodOfForgedInitiationsIsCountedAsUnmatchedOrRateLimitedAndNoneIsForwarded() throws Exception {
        relay = LocalRelay.loopback("127.0.0.1", 2, false);
        try (DatagramSocket alice = socket("127.0.0.1");
                DatagramSocket bob = socket("127.0.0.1");
                DatagramSocket forger = socket("127.0.0.5")) {
            assertTrue(relay.daemon
                    .roster()
                    .addPeer("alice", endpointOf(alice), KEY_A, null)
                    .ok());
            assertTrue(relay.daemon
                    .roster()
                    .addPeer("bob", endpointOf(bob), KEY_B, null)
                    .ok());
            assertTrue(relay.daemon.roster().addLink("alice", "bob").ok());
            InetSocketAddress relayAddr = relay.udpAddress("127.0.0.1");
            int flood = 50_000;
            long lostBefore = UdpSnmp.receiveBufferErrors();

            long start = System.nanoTime();
            for (int i = 0; i < flood; i++) {
                send(forger, WgDatagrams.initiation(random), relayAddr);
                if (i % 10 == 9) { // 10 kpps: a millisecond per ten, on the relay's clock and the wall's
                    relay.clock.addAndGet(1);
                    long due = start + (i + 1) * 100_000L;
                    while (System.nanoTime() < due) {
                        Thread.onSpinWait();
                    }
                }
            }
            long arrived = flood - (UdpSnmp.receiveBufferErrors() - lostBefore);
            await(
                    "every initiation that arrived has its verdict",
                    () -> relay.show("drop_handshake_no_pubkey_match") + relay.show("drop_handshake_rate_limited")
                            == arrived);

            long unmatched = relay.show("drop_handshake_no_pubkey_match");
            long limited = relay.show("drop_handshake_rate_limited");
            String why =
                    "sent " + flood + ", arrived " + arrived + ", unmatched " + unmatched + ", rate-limited " + limited;
            assertEquals(arrived, relay.show("rx_packets"), why);
            assertTrue(unmatched >= 1 && unmatched <= 4 * 6, "at most 4 searches in each of 6 seconds; " + why);
            assertEquals(0, relay.show("drop_unknown_src"), why);
            assertEquals(0, relay.show("fwd_packets"), why);
            DropSourceTable.Row row = relay.daemon.udp().dropSources().stream()
                    .filter(r -> r.ip().getHostAddress().equals("127.0.0.5"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(unmatched, row.noPubkeyMatch());
            assertEquals(limited, row.handshakeRateLimited());
            for (DatagramSocket peer : List.of(alice, bob)) {
                peer.setSoTimeout(200);
                assertThrows(SocketTimeoutException.class, () -> receive(peer), "nothing reaches a peer");
            }
        }
    }

    @Test
    void perSourceDropTableKeepsTheMostRecent256SourceIps() throws Exception {
        relay = LocalRelay.loopback("127.0.0.1", 2, false);
        InetSocketAddress relayAddr = relay.udpAddress("127.0.0.1");
        int sources = 300;
        for (int i = 0; i < sources; i++) {
            String ip = "127.0." + (10 + i / 200) + "." + (1 + i % 200);
            try (DatagramSocket s = socket(ip)) {
                send(s, new byte[] {9, 9, 9}, relayAddr);
            }
            int sent = i + 1;
            await("source " + ip + " counted", () -> relay.show("drop_not_wg_shaped") == sent);
            relay.clock.incrementAndGet(); // every source seen at a distinct time
        }
        List<DropSourceTable.Row> rows = relay.daemon.udp().dropSources();
        assertEquals(DropSourceTable.CAPACITY, rows.size());
        assertTrue(
                rows.stream().noneMatch(r -> r.ip().getHostAddress().equals("127.0.10.1")),
                "the least recently seen source was evicted");
        assertEquals("127.0.11.100", rows.get(0).ip().getHostAddress(), "most recent first");
        assertEquals(
                "127.0.10.45",
                rows.get(rows.size() - 1).ip().getHostAddress(),
                "exactly the oldest 44 sources are gone");
    }

    @Test
    void traceLinesComeInIngressEgressPairsWithTheSameHash() throws Exception {
        Logger traceLog = (Logger) LoggerFactory.getLogger("org.wgrelay.trace");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        traceLog.addAppender(lines);
        try {
            relay = LocalRelay.loopback("127.0.0.1", 1, true);
            try (DatagramSocket alice = socket("127.0.0.1");
                    DatagramSocket bob = socket("127.0.0.1")) {
                String key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
                relay.daemon.roster().addPeer("alice", endpointOf(alice), key, null);
                relay.daemon.roster().addPeer("bob", endpointOf(bob), null, null);
                relay.daemon.roster().addLink("alice", "bob");
                byte[] payload = WgDatagrams.transport(200, random);
                send(alice, payload, relay.udpAddress("127.0.0.1"));
                receive(bob);
                await("two trace lines", () -> lines.list.size() >= 2);
                String hash = HexFormat.of()
                        .formatHex(MessageDigest.getInstance("SHA-256").digest(payload))
                        .substring(0, 32);
                assertEquals(
                        "trace ingress sha256=" + hash + " len=200 type=4 src_peer=alice src_pubkey="
                                + key.substring(0, 12) + " dst_peer=bob dst_pubkey=[--]",
                        lines.list.get(0).getFormattedMessage());
                assertEquals(
                        "trace egress sha256=" + hash + " len=200 type=4 src_peer=alice dst_peer=bob",
                        lines.list.get(1).getFormattedMessage());
            }
        } finally {
            traceLog.detachAppender(lines);
        }
    }

    @Test
    void dualStackSocketMatchesIpv4PeersAndIpv6Peers() throws Exception {
        relay = LocalRelay.loopback("::", 2, false);
        try (DatagramSocket v4 = socket("127.0.0.1");
                DatagramSocket v6 = socket("::1")) {
            relay.daemon.roster().addPeer("four", endpointOf(v4), null, null);
            relay.daemon.roster().addPeer("six", endpointOf(v6), null, null);
            relay.daemon.roster().addLink("four", "six");
            byte[] there = WgDatagrams.transport(100, random);
            send(v4, there, relay.udpAddress("127.0.0.1"));
            DatagramPacket got = receive(v6);
            assertArrayEquals(there, Arrays.copyOf(got.getData(), got.getLength()));
            byte[] back = WgDatagrams.transport(120, random);
            send(v6, back, relay.udpAddress("::1"));
            got = receive(v4);
            assertArrayEquals(back, Arrays.copyOf(got.getData(), got.getLength()));
            assertEquals("[::1]:" + v6.getLocalPort(), peer("six").get("endpoint"));

            // The blocklist's IPv4 entries match IPv4 senders on the dual-stack socket too.
            relay.daemon.blocklist().block(InetAddress.getByName("127.0.0.5"), relay.clock.get() + 60_000, 2);
            try (DatagramSocket blocked = socket("127.0.0.5")) {
                send(blocked, WgDatagrams.transport(64, random), relay.udpAddress("127.0.0.1"));
            }
            await("drop_blocklisted on the dual-stack socket", () -> relay.show("drop_blocklisted") == 1);
        }
    }

    @Test
    void removingTheLinkStopsForwardingAtOnce() throws Exception {
        relay = LocalRelay.loopback("127.0.0.1", 2, false);
        try (DatagramSocket alice = socket("127.0.0.1");
                DatagramSocket bob = socket("127.0.0.1")) {
            relay.daemon.roster().addPeer("alice", endpointOf(alice), null, null);
            relay.daemon.roster().addPeer("bob", endpointOf(bob), null, null);
            relay.daemon.roster().addLink("alice", "bob");
            InetSocketAddress relayAddr = relay.udpAddress("127.0.0.1");
            send(alice, WgDatagrams.transport(40, random), relayAddr);
            receive(bob);
            assertTrue(relay.daemon.roster().removeLink("bob", "alice").ok());
            send(alice, WgDatagrams.transport(40, random), relayAddr);
            await("drop_no_link", () -> relay.show("drop_no_link") == 1);
            assertNull(peer("alice").get("linked_to"));
            assertEquals(1L, peer("alice").get("drop_no_link"));
            String file =
                    java.nio.file.Files.readString(relay.daemon.roster().file().path());
            Matcher links = Pattern.compile("(?m)^link ").matcher(file);
            assertTrue(!links.find(), "the roster file no longer has the link:\n" + file);
        }
    }
}
