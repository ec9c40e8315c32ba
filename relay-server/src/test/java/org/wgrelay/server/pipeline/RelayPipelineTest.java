package org.wgrelay.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.pipeline.RelayHarness.address;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wgrelay.server.TestPackets;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.wire.WgMessage;

/** The whole userspace forward path (SPEC "Forwarding rules") on one worker's pipeline. */
class RelayPipelineTest {
    static final InetSocketAddress ALICE = address("192.0.2.10", 51001);
    static final InetSocketAddress BOB = address("203.0.113.20", 51002);
    static final InetSocketAddress CAROL = address("192.0.2.30", 51003);
    static final InetSocketAddress DAVE = address("2001:db8::4", 51004);
    static final InetSocketAddress ERIN = address("192.0.2.50", 51005);
    static final InetSocketAddress STRANGER = address("192.0.2.99", 40000);

    private RelayHarness relay = new RelayHarness()
            .peer("alice", ALICE)
            .peer("bob", BOB)
            .peer("carol", CAROL)
            .peer("dave", DAVE)
            .peer("erin", ERIN)
            .link("alice", "bob")
            .link("dave", "erin");

    @Test
    void forwardsALinkedPeersTransportDataByteForByteToThePartnersEndpointInTheSameBuffer() {
        ByteBuf payload = TestPackets.datagram(4, 1452);
        byte[] sent = ByteBufUtil.getBytes(payload);

        DatagramPacket in = relay.receive(payload, ALICE);

        OutboundDatagram out = relay.forwarded();
        assertEquals(BOB, out.recipient());
        assertSame(
                relay.tables.current().routeOf("alice").partnerAddress(),
                out.recipient(),
                "the preallocated partner address, not a new one");
        assertSame(payload, out.content(), "the received buffer itself goes out: no copy");
        assertArrayEquals(sent, ByteBufUtil.getBytes(out.content()));
        assertEquals(1, in.refCnt(), "ownership moved to the outbound datagram, no extra reference");
        assertTrue(out.release());
        assertEquals(0, in.refCnt());
        assertNull(relay.channel.readOutbound(), "exactly one datagram goes out");
        assertEquals(1, relay.count(RelayCounter.RX_PACKETS));
        assertEquals(1, relay.count(RelayCounter.FWD_PACKETS));
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @ParameterizedTest(name = "type {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void forwardsEveryMessageTypeFromALinkedPeerInBothDirections(int type) {
        int length = TestPackets.shapedLength(type);
        ByteBuf fromAlice = TestPackets.datagram(type, length, 1);
        ByteBuf fromBob = TestPackets.datagram(type, length, 2);
        byte[] aliceBytes = ByteBufUtil.getBytes(fromAlice);
        byte[] bobBytes = ByteBufUtil.getBytes(fromBob);

        DatagramPacket a = relay.receive(fromAlice, ALICE);
        DatagramPacket b = relay.receive(fromBob, BOB);

        OutboundDatagram toBob = relay.forwarded();
        OutboundDatagram toAlice = relay.forwarded();
        assertEquals(BOB, toBob.recipient());
        assertArrayEquals(aliceBytes, ByteBufUtil.getBytes(toBob.content()));
        assertEquals(ALICE, toAlice.recipient());
        assertArrayEquals(bobBytes, ByteBufUtil.getBytes(toAlice.content()));
        toBob.release();
        toAlice.release();
        assertEquals(0, a.refCnt());
        assertEquals(0, b.refCnt());
        assertEquals(2, relay.count(RelayCounter.FWD_PACKETS));
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void dropsEveryUnshapedDatagramOfEveryLengthUpTo2048AndForwardsTheShapedOnes() {
        int[] typeWords = {0, 1, 2, 3, 4, 5, 0xFF, 0x0101, 0x0104, 0x0400_0000};
        long shaped = 0;
        long unshaped = 0;
        long shapedBytes = 0;
        for (int typeWord : typeWords) {
            for (int length = 0; length <= 2048; length++) {
                ByteBuf payload = TestPackets.datagram(typeWord, length);
                DatagramPacket in = relay.receive(payload, ALICE);
                if (TestPackets.expectedShape(typeWord, length) != 0) {
                    shaped++;
                    shapedBytes += length;
                    OutboundDatagram out = relay.forwarded();
                    assertSame(payload, out.content());
                    out.release();
                } else {
                    unshaped++;
                    assertNull(relay.channel.readOutbound(), "type word " + typeWord + " len " + length);
                }
                assertEquals(0, in.refCnt(), "type word " + typeWord + " len " + length + " was released");
            }
        }
        assertEquals(shaped + unshaped, relay.count(RelayCounter.RX_PACKETS));
        assertEquals(shaped, relay.count(RelayCounter.FWD_PACKETS));
        assertEquals(unshaped, relay.count(RelayCounter.DROP_NOT_WG_SHAPED));
        relay.assertOneVerdictPerDatagram();

        DropSourceTable.Row row = relay.dropRow(ALICE.getAddress());
        assertNotNull(row, "unshaped drops count against the source IP");
        assertEquals(unshaped, row.notWgShaped());
        assertEquals(0, row.unknownSource());
        assertEquals(0, row.noPubkeyMatch());

        PeerStats alice = relay.statsOf("alice");
        assertEquals(shaped, alice.get(PeerCounter.RX_PACKETS), "rx_* count shaped datagrams only");
        assertEquals(shapedBytes, alice.get(PeerCounter.RX_BYTES));
        assertEquals(shapedBytes, alice.get(PeerCounter.FWD_BYTES));
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void dropsUnshapedDatagramsFromUnknownSourcesAsNotShapedAndCountsTheSourceIp() {
        for (int length = 0; length <= 2048; length++) {
            DatagramPacket in = relay.receive(TestPackets.datagram(9, length), STRANGER);
            assertEquals(0, in.refCnt());
        }
        assertEquals(2049, relay.count(RelayCounter.DROP_NOT_WG_SHAPED));
        assertEquals(0, relay.count(RelayCounter.DROP_UNKNOWN_SRC), "the shape check comes before the lookup");
        assertEquals(2049, relay.dropRow(STRANGER.getAddress()).notWgShaped());
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void dropsAHandshakeInitiationFromAnUnknownSourceAsNoPubkeyMatch() {
        DatagramPacket in = relay.receive(TestPackets.datagram(1, 148), STRANGER);

        assertNull(relay.channel.readOutbound());
        assertEquals(0, in.refCnt());
        assertEquals(1, relay.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH));
        assertEquals(0, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        DropSourceTable.Row row = relay.dropRow(STRANGER.getAddress());
        assertEquals(1, row.noPubkeyMatch());
        assertEquals(0, row.unknownSource());
        assertEquals(RelayHarness.START_MILLIS, row.lastSeenMillis());
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @ParameterizedTest(name = "type {0}")
    @ValueSource(ints = {2, 3, 4})
    void dropsResponsesCookiesAndTransportDataFromAnUnknownSourceAsUnknownSource(int type) {
        DatagramPacket in = relay.receive(TestPackets.datagram(type, TestPackets.shapedLength(type)), STRANGER);

        assertNull(relay.channel.readOutbound());
        assertEquals(0, in.refCnt());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        assertEquals(0, relay.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH));
        assertEquals(1, relay.dropRow(STRANGER.getAddress()).unknownSource());
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void treatsARegisteredIpFromAnotherPortAsAnUnknownSource() {
        InetSocketAddress alicesIpOtherPort = new InetSocketAddress(ALICE.getAddress(), ALICE.getPort() + 1);

        DatagramPacket in = relay.receive(TestPackets.datagram(4, 64), alicesIpOtherPort);

        assertNull(relay.channel.readOutbound());
        assertEquals(0, in.refCnt());
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        assertEquals(0, relay.statsOf("alice").get(PeerCounter.RX_PACKETS));
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void dropsDatagramsOfAPeerWithoutALinkAndCountsItAsThePeersOwnNoLinkDrop() {
        DatagramPacket in = relay.receive(TestPackets.datagram(4, 100), CAROL);
        DatagramPacket init = relay.receive(TestPackets.datagram(1, 148), CAROL);

        assertNull(relay.channel.readOutbound());
        assertEquals(0, in.refCnt());
        assertEquals(0, init.refCnt());
        assertEquals(2, relay.count(RelayCounter.DROP_NO_LINK));
        PeerStats carol = relay.statsOf("carol");
        assertEquals(2, carol.get(PeerCounter.DROP_NO_LINK));
        assertEquals(2, carol.get(PeerCounter.RX_PACKETS), "shaped datagrams from the endpoint count as rx");
        assertEquals(248, carol.get(PeerCounter.RX_BYTES));
        assertEquals(0, carol.get(PeerCounter.FWD_PACKETS));
        assertEquals(0, relay.statsOf("alice").get(PeerCounter.DROP_NO_LINK));
        assertNull(relay.dropRow(CAROL.getAddress()), "no_link is not a per-source drop");
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void dropsEverythingFromABlocklistedSourceBeforeTheShapeCheck() {
        relay.blocklist.block(ALICE.getAddress(), RelayHarness.START_MILLIS + 60_000, 2);

        DatagramPacket shaped = relay.receive(TestPackets.datagram(4, 64), ALICE);
        DatagramPacket unshaped = relay.receive(TestPackets.datagram(7, 10), ALICE);
        DatagramPacket otherPort =
                relay.receive(TestPackets.datagram(1, 148), new InetSocketAddress(ALICE.getAddress(), 9));

        assertNull(relay.channel.readOutbound());
        assertEquals(0, shaped.refCnt());
        assertEquals(0, unshaped.refCnt());
        assertEquals(0, otherPort.refCnt());
        assertEquals(3, relay.count(RelayCounter.RX_PACKETS));
        assertEquals(3, relay.count(RelayCounter.DROP_BLOCKLISTED));
        assertEquals(0, relay.count(RelayCounter.DROP_NOT_WG_SHAPED));
        assertNull(relay.dropRow(ALICE.getAddress()), "a blocked source is not counted per source");
        assertEquals(0, relay.statsOf("alice").get(PeerCounter.RX_PACKETS));
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void stopsDroppingABlocklistedSourceTheMomentItsBlockExpires() {
        long expiry = RelayHarness.START_MILLIS + 60_000;
        relay.blocklist.block(ALICE.getAddress(), expiry, 2);

        relay.clock.set(expiry - 1);
        DatagramPacket blocked = relay.receive(TestPackets.datagram(4, 64), ALICE);
        assertNull(relay.channel.readOutbound());
        assertEquals(0, blocked.refCnt());

        relay.clock.set(expiry);
        relay.receive(TestPackets.datagram(4, 64), ALICE);
        relay.forwarded().release();

        assertEquals(1, relay.count(RelayCounter.DROP_BLOCKLISTED));
        assertEquals(1, relay.count(RelayCounter.FWD_PACKETS));
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void doesNotDropOtherSourcesWhileOneIpIsBlocked() {
        relay.blocklist.block(STRANGER.getAddress(), RelayHarness.START_MILLIS + 60_000, 2);

        relay.receive(TestPackets.datagram(4, 64), ALICE);

        relay.forwarded().release();
        assertEquals(0, relay.count(RelayCounter.DROP_BLOCKLISTED));
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void countsTheBytesOfEachPeerAndItsLastSeenTimeFromTheClock() {
        relay.receive(TestPackets.datagram(4, 100), ALICE);
        relay.clock.addAndGet(5_000);
        relay.receive(TestPackets.datagram(1, 148), ALICE);
        relay.receive(TestPackets.datagram(2, 92), BOB);
        relay.receive(TestPackets.datagram(3, 64), BOB);
        for (int i = 0; i < 4; i++) {
            relay.forwarded().release();
        }

        PeerStats alice = relay.statsOf("alice");
        PeerStats bob = relay.statsOf("bob");
        assertEquals(2, alice.get(PeerCounter.RX_PACKETS));
        assertEquals(248, alice.get(PeerCounter.RX_BYTES));
        assertEquals(2, alice.get(PeerCounter.FWD_PACKETS));
        assertEquals(248, alice.get(PeerCounter.FWD_BYTES));
        assertEquals(RelayHarness.START_MILLIS + 5_000, alice.lastSeenMillis());
        assertEquals(2, bob.get(PeerCounter.RX_PACKETS));
        assertEquals(156, bob.get(PeerCounter.RX_BYTES));
        assertEquals(156, bob.get(PeerCounter.FWD_BYTES));
        assertEquals(0, relay.statsOf("carol").lastSeenMillis(), "never seen");
        assertEquals(4, relay.count(RelayCounter.RX_PACKETS));
        assertEquals(4, relay.count(RelayCounter.FWD_PACKETS));
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void forwardsBetweenAnIpv6PeerAndAnIpv4Partner() {
        ByteBuf fromDave = TestPackets.datagram(4, 200, 5);
        byte[] daveBytes = ByteBufUtil.getBytes(fromDave);

        relay.receive(fromDave, DAVE);
        relay.receive(TestPackets.datagram(2, 92), ERIN);

        OutboundDatagram toErin = relay.forwarded();
        assertEquals(ERIN, toErin.recipient());
        assertArrayEquals(daveBytes, ByteBufUtil.getBytes(toErin.content()));
        toErin.release();
        OutboundDatagram toDave = relay.forwarded();
        assertEquals(DAVE, toDave.recipient());
        toDave.release();
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void matchesAnIpv4PeerSeenAsAnIpv4MappedIpv6SenderOnADualStackSocket() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(ALICE.getAddress().getAddress(), 0, mapped, 12, 4);
        InetAddress mappedAlice = Inet6Address.getByAddress(null, mapped, -1);
        assertTrue(mappedAlice instanceof Inet6Address);

        relay.receive(TestPackets.datagram(4, 64), new InetSocketAddress(mappedAlice, ALICE.getPort()));

        OutboundDatagram out = relay.forwarded();
        assertEquals(BOB, out.recipient());
        out.release();
        assertEquals(1, relay.statsOf("alice").get(PeerCounter.RX_PACKETS));
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void forwardsOnlyTheReadableBytesOfADatagramWhoseReaderIndexIsNotZero() {
        byte[] message = TestPackets.bytes(4, 80, 9);
        ByteBuf payload = Unpooled.buffer(16 + 80);
        payload.writeBytes(new byte[] {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0})
                .writeBytes(message);
        payload.readerIndex(16);

        relay.receive(payload, ALICE);

        OutboundDatagram out = relay.forwarded();
        assertSame(payload, out.content());
        assertArrayEquals(message, ByteBufUtil.getBytes(out.content()));
        out.release();
        assertEquals(80, relay.statsOf("alice").get(PeerCounter.FWD_BYTES));
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void usesANewlyPublishedTableFromTheVeryNextDatagram() {
        InetSocketAddress aliceMoved = address("192.0.2.11", 52001);
        relay.receive(TestPackets.datagram(4, 64), ALICE);
        relay.forwarded().release();

        relay.change(r -> r.updateEndpoint("alice", Endpoint.of(aliceMoved.getAddress(), aliceMoved.getPort())));
        DatagramPacket fromOld = relay.receive(TestPackets.datagram(4, 64), ALICE);
        relay.receive(TestPackets.datagram(4, 64), aliceMoved);
        relay.receive(TestPackets.datagram(4, 64), BOB);

        assertEquals(0, fromOld.refCnt());
        OutboundDatagram toBob = relay.forwarded();
        assertEquals(BOB, toBob.recipient());
        toBob.release();
        OutboundDatagram toAlice = relay.forwarded();
        assertEquals(aliceMoved, toAlice.recipient(), "bob's datagrams follow alice to her new endpoint");
        toAlice.release();
        assertEquals(1, relay.count(RelayCounter.DROP_UNKNOWN_SRC));
        assertEquals(
                2,
                relay.statsOf("alice").get(PeerCounter.RX_PACKETS),
                "one before the move, one after: stats survive it");
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void dropsAPeersDatagramsAsNoLinkOnceItsLinkIsRemoved() {
        relay.change(r -> r.removeLink("bob", "alice"));

        DatagramPacket in = relay.receive(TestPackets.datagram(4, 64), ALICE);

        assertNull(relay.channel.readOutbound());
        assertEquals(0, in.refCnt());
        assertEquals(1, relay.count(RelayCounter.DROP_NO_LINK));
        assertEquals(1, relay.statsOf("alice").get(PeerCounter.DROP_NO_LINK));
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void dropsWithTxErrorsRatherThanQueueWhenTheSocketIsOverItsHighWaterMark() {
        relay.channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, 100));
        DatagramPacket first = new DatagramPacket(TestPackets.datagram(4, 200), RelayHarness.RELAY, ALICE);
        DatagramPacket second = new DatagramPacket(TestPackets.datagram(4, 200), RelayHarness.RELAY, ALICE);

        // One read batch: the first write is not flushed yet when the second arrives.
        assertFalse(relay.channel.writeInbound(first, second));

        assertEquals(0, second.refCnt(), "the refused datagram is released");
        OutboundDatagram out = relay.forwarded();
        assertSame(first.content(), out.content());
        out.release();
        assertNull(relay.channel.readOutbound());
        assertEquals(1, relay.count(RelayCounter.FWD_PACKETS));
        assertEquals(1, relay.count(RelayCounter.TX_ERRORS));
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void givesEveryDatagramOfARandomMixExactlyTheVerdictTheRulesPrescribe() {
        relay.blocklist.block(address("192.0.2.66", 1).getAddress(), RelayHarness.START_MILLIS + 1_000_000, 2);
        InetSocketAddress[] sources = {
            ALICE,
            BOB,
            CAROL,
            DAVE,
            ERIN,
            STRANGER,
            address("192.0.2.66", 5),
            address("2001:db8::99", 7),
            new InetSocketAddress(BOB.getAddress(), 1)
        };
        int[] typeWords = {1, 2, 3, 4, 0, 5, 0x0104};
        Random random = new Random(20240601);
        for (int i = 0; i < 3000; i++) {
            InetSocketAddress src = sources[random.nextInt(sources.length)];
            int typeWord = typeWords[random.nextInt(typeWords.length)];
            int length = random.nextInt(4) == 0
                    ? random.nextInt(200)
                    : typeWord >= 1 && typeWord <= 4
                            ? TestPackets.shapedLength(typeWord) + (typeWord == 4 ? random.nextInt(1400) : 0)
                            : random.nextInt(200);
            RelayCounter expected = expectedVerdict(src, typeWord, length);
            Map<RelayCounter, Long> before = snapshot();

            DatagramPacket in = relay.receive(TestPackets.datagram(typeWord, length, i), src);

            assertEquals(
                    expected == RelayCounter.FWD_PACKETS ? 1 : 0,
                    in.refCnt(),
                    "datagram " + i + " released unless forwarded (then the outbound datagram owns it)");
            Map<RelayCounter, Long> after = snapshot();
            for (RelayCounter c : RelayCounter.values()) {
                long delta = after.get(c) - before.get(c);
                long want = (c == expected ? 1 : 0) + (c == RelayCounter.RX_PACKETS ? 1 : 0);
                assertEquals(
                        want,
                        delta,
                        "datagram " + i + " from " + src + " type " + typeWord + " len " + length + ": counter "
                                + c.key());
            }
            OutboundDatagram out = relay.channel.readOutbound();
            if (expected == RelayCounter.FWD_PACKETS) {
                assertNotNull(out);
                assertSame(in.content(), out.content());
                out.release();
            } else {
                assertNull(out);
            }
        }
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    private RelayCounter expectedVerdict(InetSocketAddress src, int typeWord, int length) {
        if (src.getAddress().equals(address("192.0.2.66", 1).getAddress())) {
            return RelayCounter.DROP_BLOCKLISTED;
        }
        if (TestPackets.expectedShape(typeWord, length) == 0) {
            return RelayCounter.DROP_NOT_WG_SHAPED;
        }
        List<InetSocketAddress> linked = List.of(ALICE, BOB, DAVE, ERIN);
        if (linked.contains(src)) {
            return RelayCounter.FWD_PACKETS;
        }
        if (src.equals(CAROL)) {
            return RelayCounter.DROP_NO_LINK;
        }
        return typeWord == 1 ? RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH : RelayCounter.DROP_UNKNOWN_SRC;
    }

    private Map<RelayCounter, Long> snapshot() {
        Map<RelayCounter, Long> m = new EnumMap<>(RelayCounter.class);
        for (RelayCounter c : RelayCounter.values()) {
            m.put(c, relay.count(c));
        }
        return m;
    }

    @Test
    void passesTheDatagramTypeAndRouteToTheStagesAfterTheLookup() {
        List<String> seen = new ArrayList<>();
        relay.channel.pipeline().addBefore("forwarder", "spy", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                Datagram d = (Datagram) msg;
                seen.add(d.type() + " " + d.route().peer().name() + " -> "
                        + d.route().partner().name());
                ctx.fireChannelRead(msg);
            }
        });
        relay.receive(TestPackets.datagram(2, 92), BOB);

        assertEquals(List.of(WgMessage.TYPE_HANDSHAKE_RESPONSE + " bob -> alice"), seen);
        relay.forwarded().release();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void buildsTheStagesInSpecOrderWithoutTracing() {
        List<String> names = new ArrayList<>(relay.channel.pipeline().names());
        names.removeIf(n -> n.startsWith("DefaultChannelPipeline$TailContext"));
        assertEquals(
                List.of(
                        "rx-counter",
                        "blocklist-gate",
                        "shape-filter",
                        "source-lookup",
                        "link-lookup",
                        "mac1-verifier",
                        "forwarder",
                        "io-error-log"),
                names);
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void buildsTheTraceStageBetweenTheLinkLookupAndTheForwarderWhenTracing() {
        RelayHarness traced = new RelayHarness(true);
        List<String> names = new ArrayList<>(traced.channel.pipeline().names());
        names.removeIf(n -> n.startsWith("DefaultChannelPipeline$TailContext"));
        assertEquals(
                List.of(
                        "rx-counter",
                        "blocklist-gate",
                        "shape-filter",
                        "source-lookup",
                        "link-lookup",
                        "mac1-verifier",
                        "trace-hasher",
                        "forwarder",
                        "io-error-log"),
                names);
        assertFalse(traced.channel.finishAndReleaseAll());
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void theChannelInitializerInstallsTheSameStagesAndForwards() {
        RelayHarness source = relay;
        EmbeddedChannel channel = new EmbeddedChannel(new RelayChannelInitializer(
                source.worker, source.tables, source.blocklist, new DropUnknownSources(), null, false, false));
        assertNotNull(channel.pipeline().get("forwarder"));
        assertNull(channel.pipeline().get(RelayChannelInitializer.class), "the initializer removes itself");

        ByteBuf payload = TestPackets.datagram(4, 64);
        DatagramPacket in = new DatagramPacket(payload, RelayHarness.RELAY, BOB);
        assertFalse(channel.writeInbound(in));

        OutboundDatagram out = channel.readOutbound();
        assertEquals(ALICE, out.recipient());
        assertSame(payload, out.content());
        out.release();
        assertEquals(0, in.refCnt());
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void unknownSourcesWithAnEmptyTableAreAllDroppedAndReleased() {
        RelayHarness empty = new RelayHarness();
        for (int type = 1; type <= 4; type++) {
            DatagramPacket in = empty.receive(TestPackets.datagram(type, TestPackets.shapedLength(type)), ALICE);
            assertEquals(0, in.refCnt());
        }
        assertEquals(1, empty.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH));
        assertEquals(3, empty.count(RelayCounter.DROP_UNKNOWN_SRC));
        empty.assertOneVerdictPerDatagram();
        assertFalse(empty.channel.finishAndReleaseAll());
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void readsTheTableThroughTheHolderSoEveryPeerOfTheRosterIsKnown() {
        ForwardingTable table = relay.tables.current();
        assertEquals(5, table.peerCount());
        assertEquals(2, table.linkCount());
        assertFalse(relay.channel.finishAndReleaseAll());
    }
}
