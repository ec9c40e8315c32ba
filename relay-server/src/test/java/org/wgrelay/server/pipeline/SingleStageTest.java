package org.wgrelay.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.pipeline.RelayHarness.address;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.TestPackets;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;

/** Each pipeline stage on its own: what it passes on, what it drops, what it counts. */
class SingleStageTest {
    static final InetSocketAddress ALICE = address("192.0.2.10", 51001);
    static final InetSocketAddress BOB = address("203.0.113.20", 51002);
    static final InetSocketAddress CAROL = address("192.0.2.30", 51003);

    /** A harness whose roster gives the routes; its own channel is not used. */
    private final RelayHarness state = new RelayHarness()
            .peer("alice", ALICE)
            .peer("bob", BOB)
            .peer("carol", CAROL)
            .link("alice", "bob");

    private DatagramPacket packet(int typeWord, int length, InetSocketAddress from) {
        return new DatagramPacket(TestPackets.datagram(typeWord, length), RelayHarness.RELAY, from);
    }

    /**
     * A datagram as the stages after the lookup receive it, made by the stages before them:
     * the shape filter and the source lookup of a channel of its own.
     */
    private Datagram lookedUp(int type, int length, InetSocketAddress from) {
        EmbeddedChannel front = new EmbeddedChannel(
                new ShapeFilter(state.worker), new SourceLookup(state.tables, new DropUnknownSources(), state.worker));
        assertTrue(front.writeInbound(packet(type, length, from)));
        Datagram datagram = front.readInbound();
        assertNull(front.readInbound());
        datagram.partner(datagram.route().solePartner()); // what rule 4 does for a peer in one link
        return datagram;
    }

    @Test
    void rxCounterCountsEveryMessageAndPassesItOnUntouched() {
        EmbeddedChannel channel = new EmbeddedChannel(new RxCounter(state.worker));
        DatagramPacket in = packet(99, 3, ALICE);

        assertTrue(channel.writeInbound(in));

        assertSame(in, channel.readInbound());
        assertEquals(1, in.refCnt());
        assertEquals(1, state.count(RelayCounter.RX_PACKETS));
        in.release();
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void shapeFilterPassesAShapedDatagramOnAndRecordsItsType() {
        EmbeddedChannel channel = new EmbeddedChannel(new ShapeFilter(state.worker));
        for (int type = 1; type <= 4; type++) {
            DatagramPacket in = packet(type, TestPackets.shapedLength(type), ALICE);
            assertTrue(channel.writeInbound(in));
            Datagram out = channel.readInbound();
            assertSame(in, out.packet());
            assertEquals(type, out.type());
            assertNull(out.route(), "the lookup comes after");
            assertEquals(1, in.refCnt());
            out.release();
            assertEquals(0, in.refCnt(), "releasing the message releases the packet");
        }
        assertEquals(0, state.count(RelayCounter.DROP_NOT_WG_SHAPED));
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    /**
     * The worker's message is reused: a redirect or route one datagram picked up (and a stage
     * that threw before the forwarder could leave behind) must not reach the next one.
     */
    @Test
    void eachDatagramStartsWithNothingThePreviousOneLeftBehind() {
        Datagram previous = lookedUp(4, 64, ALICE);
        previous.redirect(CAROL);
        assertEquals(CAROL, previous.destination());
        previous.release();
        DatagramPacket next = packet(4, 64, BOB);

        Datagram reused = previous.start(next, 4);

        assertSame(previous, reused, "one message object per worker");
        assertNull(reused.route());
        reused.route(state.tables.current().routeOf("bob"));
        reused.partner(reused.route().solePartner());
        assertEquals(ALICE, reused.destination(), "bob's partner, not the old redirect");
        assertEquals(1, next.refCnt());
        next.release();
    }

    @Test
    void shapeFilterDropsAndReleasesAnUnshapedDatagramAndCountsItsSourceIp() {
        EmbeddedChannel channel = new EmbeddedChannel(new ShapeFilter(state.worker));
        DatagramPacket in = packet(1, 147, ALICE);

        assertFalse(channel.writeInbound(in));

        assertEquals(0, in.refCnt());
        assertEquals(1, state.count(RelayCounter.DROP_NOT_WG_SHAPED));
        assertEquals(1, state.dropRow(ALICE.getAddress()).notWgShaped());
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void shapeFilterReleasesAnythingThatIsNotADatagram() {
        EmbeddedChannel channel = new EmbeddedChannel(new ShapeFilter(state.worker));
        ByteBuf notADatagram = TestPackets.datagram(4, 64);

        assertFalse(channel.writeInbound(notADatagram));

        assertEquals(0, notADatagram.refCnt());
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void blocklistGatePassesASourceThatIsNotBlocked() {
        EmbeddedChannel channel = new EmbeddedChannel(new BlocklistGate(state.blocklist, state.worker));
        state.blocklist.block(BOB.getAddress(), RelayHarness.START_MILLIS + 1, 1);
        DatagramPacket in = packet(4, 64, ALICE);

        assertTrue(channel.writeInbound(in));

        assertSame(in, channel.readInbound());
        in.release();
        assertEquals(0, state.count(RelayCounter.DROP_BLOCKLISTED));
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void blocklistGateDropsAndReleasesABlockedSourceWhateverItSends() {
        EmbeddedChannel channel = new EmbeddedChannel(new BlocklistGate(state.blocklist, state.worker));
        state.blocklist.block(ALICE.getAddress(), RelayHarness.START_MILLIS + 1, 1);
        DatagramPacket in = packet(0, 0, ALICE);

        assertFalse(channel.writeInbound(in));

        assertEquals(0, in.refCnt());
        assertEquals(1, state.count(RelayCounter.DROP_BLOCKLISTED));
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void linkLookupPassesALinkedPeersDatagramOn() {
        EmbeddedChannel channel = new EmbeddedChannel(new LinkLookup(state.worker));
        Datagram in = lookedUp(4, 64, ALICE);

        assertTrue(channel.writeInbound(in));

        assertSame(in, channel.readInbound());
        in.release();
        assertEquals(0, state.count(RelayCounter.DROP_NO_LINK));
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void linkLookupDropsAnUnlinkedPeersDatagramInTheAggregateAndThePeersOwnCount() {
        EmbeddedChannel channel = new EmbeddedChannel(new LinkLookup(state.worker));
        Datagram in = lookedUp(4, 64, CAROL);

        assertFalse(channel.writeInbound(in));

        assertEquals(0, in.refCnt());
        assertEquals(1, state.count(RelayCounter.DROP_NO_LINK));
        assertEquals(1, state.statsOf("carol").get(PeerCounter.DROP_NO_LINK));
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void forwarderWritesInChannelReadButFlushesOnlyAtReadComplete() {
        EmbeddedChannel channel = new EmbeddedChannel(new Forwarder(state.worker));
        Datagram first = lookedUp(4, 64, ALICE);
        Datagram second = lookedUp(4, 64, ALICE);

        channel.pipeline().fireChannelRead(first);
        channel.pipeline().fireChannelRead(second);
        assertNull(channel.readOutbound(), "nothing flushed inside the read batch");
        assertEquals(2, state.count(RelayCounter.FWD_PACKETS));

        channel.pipeline().fireChannelReadComplete();
        OutboundDatagram out1 = channel.readOutbound();
        OutboundDatagram out2 = channel.readOutbound();
        assertSame(first.content(), out1.content());
        assertSame(second.content(), out2.content());
        assertEquals(BOB, out1.recipient());
        assertEquals(BOB, out2.recipient());
        out1.release();
        out2.release();
        assertEquals(0, first.refCnt() + second.refCnt());
        assertEquals(128, state.statsOf("alice").get(PeerCounter.FWD_BYTES));
        assertEquals(2, state.statsOf("alice").get(PeerCounter.FWD_PACKETS));
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void dropUnknownSourcesCountsAnInitiationAsNoPubkeyMatchAndTheRestAsUnknownSource() {
        EmbeddedChannel channel = new EmbeddedChannel(
                new ShapeFilter(state.worker), new SourceLookup(state.tables, new DropUnknownSources(), state.worker));
        InetSocketAddress stranger = address("2001:db8::77", 7);
        for (int type = 1; type <= 4; type++) {
            DatagramPacket in = packet(type, TestPackets.shapedLength(type), stranger);
            assertFalse(channel.writeInbound(in));
            assertEquals(0, in.refCnt());
        }
        assertEquals(1, state.count(RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH));
        assertEquals(3, state.count(RelayCounter.DROP_UNKNOWN_SRC));
        assertEquals(1, state.dropRow(stranger.getAddress()).noPubkeyMatch());
        assertEquals(3, state.dropRow(stranger.getAddress()).unknownSource());
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void ioErrorLogReleasesWhateverReachesTheEndOfThePipeline() {
        EmbeddedChannel channel = new EmbeddedChannel(new IoErrorLog(state.worker));
        DatagramPacket in = packet(4, 64, ALICE);
        ByteBuf raw = Unpooled.buffer(4).writeInt(1);

        assertFalse(channel.writeInbound(in, raw));

        assertEquals(0, in.refCnt());
        assertEquals(0, raw.refCnt());
        assertFalse(channel.finishAndReleaseAll());
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void ioErrorLogCountsEveryErrorButLogsAtMostOncePerTenSecondsWithTheSuppressedCount() {
        Logger logger = (Logger) LoggerFactory.getLogger(IoErrorLog.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);
        try {
            EmbeddedChannel channel = new EmbeddedChannel(new IoErrorLog(state.worker));
            for (int i = 0; i < 5; i++) {
                channel.pipeline().fireExceptionCaught(new IOException("sendmmsg failed: ENOBUFS"));
                state.clock.addAndGet(1_000);
            }
            assertEquals(1, captured.list.size(), "5 errors in 5 s log one line");
            state.clock.addAndGet(IoErrorLog.LOG_INTERVAL_MILLIS);
            channel.pipeline().fireExceptionCaught(new IOException("sendmmsg failed: ENOBUFS"));

            assertEquals(6, state.count(RelayCounter.TX_ERRORS));
            assertEquals(2, captured.list.size());
            assertTrue(
                    captured.list.get(0).getFormattedMessage().contains("(0 similar errors suppressed)"),
                    captured.list.get(0).getFormattedMessage());
            assertTrue(
                    captured.list.get(1).getFormattedMessage().contains("(4 similar errors suppressed)"),
                    captured.list.get(1).getFormattedMessage());
            channel.checkException();
            assertFalse(channel.finishAndReleaseAll());
        } finally {
            logger.detachAppender(captured);
        }
        assertFalse(state.channel.finishAndReleaseAll());
    }

    @Test
    void aSendTheKernelRefusesWithEinvalTurnsGsoOffOnceAndOtherErrorsLeaveItOn() {
        org.junit.jupiter.api.Assumptions.assumeTrue(OutboundDatagram.segmentsSupported(), "no UDP GSO here");
        Logger logger = (Logger) LoggerFactory.getLogger(IoErrorLog.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);
        try {
            SegmentBatcher segments = state.worker.segments();
            segments.enable(1452);
            EmbeddedChannel channel = new EmbeddedChannel(new IoErrorLog(state.worker));
            // Linux errno values, negative as Netty keeps them: ENOBUFS 105, EINVAL 22
            channel.pipeline()
                    .fireExceptionCaught(new io.netty.channel.unix.Errors.NativeIoException("sendmmsg", -105));
            assertTrue(segments.enabled(), "a full buffer is no verdict on GSO");
            channel.pipeline().fireExceptionCaught(new io.netty.channel.unix.Errors.NativeIoException("sendmmsg", -22));
            assertFalse(segments.enabled(), "EINVAL: this worker sends every datagram alone now");
            assertEquals(2, state.count(RelayCounter.TX_ERRORS));
            assertTrue(
                    captured.list.stream().anyMatch(e -> e.getFormattedMessage().startsWith("udp gso off on worker 0")),
                    captured.list.toString());
            channel.checkException();
            assertFalse(channel.finishAndReleaseAll());
        } finally {
            logger.detachAppender(captured);
        }
        assertFalse(state.channel.finishAndReleaseAll());
    }
}
