package org.wgrelay.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The GSO grouping rules on an {@link EmbeddedChannel}: each {@code writeInbound} call is one
 * read batch, and what leaves is read back as {@link OutboundDatagram}s and cut at their
 * segment size, the way the kernel cuts a GSO send.
 */
class SegmentBatcherTest {
    private static final InetSocketAddress A = new InetSocketAddress("192.0.2.1", 1001);
    private static final InetSocketAddress B = new InetSocketAddress("192.0.2.2", 1002);
    private static final int LIMIT = 1452;

    private final OutboundDatagram.Pool pool = new OutboundDatagram.Pool();
    private final SegmentBatcher batcher = new SegmentBatcher(pool);
    private final List<ByteBuf> sent = new ArrayList<>();
    private EmbeddedChannel channel;

    /** What the test hands the batcher: a datagram for a recipient, and a copy of its bytes. */
    private record Send(ByteBuf content, InetSocketAddress to, byte[] bytes) {}

    @BeforeEach
    void start() {
        assumeTrue(OutboundDatagram.segmentsSupported(), "this kernel or Netty build has no UDP GSO");
        batcher.enable(LIMIT);
        channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                Send s = (Send) msg;
                batcher.send(ctx, s.content(), s.to());
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                batcher.writeAll(ctx);
                ctx.flush();
            }
        });
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            assertFalse(channel.finishAndReleaseAll(), "everything written was read by the test");
            batcher.discard();
            for (ByteBuf b : sent) {
                assertEquals(0, b.refCnt(), "every datagram handed over was released");
            }
        }
    }

    private Send datagram(InetSocketAddress to, int length, int seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        ByteBuf b = Unpooled.directBuffer(length).writeBytes(bytes);
        sent.add(b);
        return new Send(b, to, bytes);
    }

    private void batch(Send... sends) {
        assertFalse(channel.writeInbound((Object[]) sends));
    }

    /** The envelopes written, in order, as (recipient, segment size, bytes); all released. */
    private List<Out> written() {
        List<Out> out = new ArrayList<>();
        for (OutboundDatagram d; (d = channel.readOutbound()) != null; ) {
            out.add(new Out(d.recipient(), d.segmentSize(), ByteBufUtil.getBytes(d.content())));
            assertTrue(d.release());
        }
        return out;
    }

    private record Out(InetSocketAddress to, int segmentSize, byte[] bytes) {
        /** The datagrams the kernel makes of it: cut every segmentSize bytes, the last shorter. */
        List<byte[]> datagrams() {
            List<byte[]> d = new ArrayList<>();
            int step = segmentSize == 0 ? bytes.length : segmentSize;
            for (int at = 0; at < bytes.length; at += step) {
                byte[] one = new byte[Math.min(step, bytes.length - at)];
                System.arraycopy(bytes, at, one, 0, one.length);
                d.add(one);
            }
            return d;
        }
    }

    private static byte[] bytesOf(Send s) {
        return s.bytes();
    }

    @Test
    void equalDatagramsToOneRecipientLeaveAsOneGsoSendInTheirOrder() {
        Send[] sends = new Send[10];
        List<byte[]> expected = new ArrayList<>();
        for (int i = 0; i < sends.length; i++) {
            sends[i] = datagram(A, 100, i);
            expected.add(bytesOf(sends[i]));
        }
        batch(sends);
        List<Out> out = written();
        assertEquals(1, out.size());
        assertEquals(A, out.get(0).to());
        assertEquals(100, out.get(0).segmentSize());
        assertDatagrams(expected, out.get(0).datagrams());
    }

    @Test
    void aShorterDatagramEndsItsGroupAndALongerOneStartsTheNext() {
        Send s1 = datagram(A, 100, 1), s2 = datagram(A, 100, 2), s3 = datagram(A, 60, 3);
        Send s4 = datagram(A, 100, 4), s5 = datagram(A, 150, 5), s6 = datagram(A, 150, 6);
        List<byte[]> expected = List.of(bytesOf(s1), bytesOf(s2), bytesOf(s3), bytesOf(s4), bytesOf(s5), bytesOf(s6));
        batch(s1, s2, s3, s4, s5, s6);
        List<Out> out = written();
        assertEquals(
                List.of(100, 0, 150),
                out.stream().map(Out::segmentSize).toList(),
                "[100 100 60] as a group, [100] alone (150 is longer), [150 150] as a group");
        assertDatagrams(
                expected, out.stream().flatMap(o -> o.datagrams().stream()).toList());
    }

    @Test
    void aDatagramOverTheLimitLeavesAloneAfterItsRecipientsGroup() {
        Send s1 = datagram(A, 1000, 1), s2 = datagram(A, 1000, 2), big = datagram(A, LIMIT + 1, 3);
        Send s4 = datagram(A, 1000, 4);
        List<byte[]> expected = List.of(bytesOf(s1), bytesOf(s2), bytesOf(big), bytesOf(s4));
        batch(s1, s2, big, s4);
        List<Out> out = written();
        assertEquals(List.of(1000, 0, 0), out.stream().map(Out::segmentSize).toList());
        assertEquals(LIMIT + 1, out.get(1).bytes().length);
        assertDatagrams(
                expected, out.stream().flatMap(o -> o.datagrams().stream()).toList());
    }

    @Test
    void interleavedRecipientsEachGetTheirOwnGroupInTheirOwnOrder() {
        List<Send> sends = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sends.add(datagram(i % 2 == 0 ? A : B, 128, i));
        }
        Map<InetSocketAddress, List<byte[]>> expected = new HashMap<>();
        for (Send s : sends) {
            expected.computeIfAbsent(s.to(), k -> new ArrayList<>()).add(bytesOf(s));
        }
        batch(sends.toArray(Send[]::new));
        Map<InetSocketAddress, List<byte[]>> got = new HashMap<>();
        List<Out> out = written();
        assertEquals(2, out.size(), "one GSO send per recipient");
        for (Out o : out) {
            got.computeIfAbsent(o.to(), k -> new ArrayList<>()).addAll(o.datagrams());
        }
        assertDatagrams(expected.get(A), got.get(A));
        assertDatagrams(expected.get(B), got.get(B));
    }

    @Test
    void aGroupHoldsAtMost64SegmentsAnd32KiB() {
        List<Send> small = new ArrayList<>();
        for (int i = 0; i < 70; i++) {
            small.add(datagram(A, 100, i));
        }
        batch(small.toArray(Send[]::new));
        List<Out> out = written();
        assertEquals(
                List.of(64 * 100, 6 * 100),
                out.stream().map(o -> o.bytes().length).toList());

        List<Send> large = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            large.add(datagram(B, 1400, i));
        }
        batch(large.toArray(Send[]::new));
        out = written();
        int perGroup = SegmentBatcher.MAX_GROUP_BYTES / 1400;
        assertEquals(
                List.of(perGroup * 1400, (30 - perGroup) * 1400),
                out.stream().map(o -> o.bytes().length).toList());
        assertDatagrams(
                large.stream().map(SegmentBatcherTest::bytesOf).toList(),
                out.stream().flatMap(o -> o.datagrams().stream()).toList());
    }

    @Test
    void aNinthRecipientHasAnOpenGroupWrittenFirstAndNothingIsLost() {
        List<Send> sends = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            for (int r = 0; r < SegmentBatcher.OPEN_GROUPS + 1; r++) {
                sends.add(datagram(new InetSocketAddress("192.0.2.1", 2000 + r), 64, round * 100 + r));
            }
        }
        batch(sends.toArray(Send[]::new));
        List<Out> out = written();
        assertEquals(
                sends.size(), out.stream().mapToInt(o -> o.datagrams().size()).sum());
        for (int r = 0; r < SegmentBatcher.OPEN_GROUPS + 1; r++) {
            InetSocketAddress to = new InetSocketAddress("192.0.2.1", 2000 + r);
            assertDatagrams(
                    sends.stream()
                            .filter(s -> s.to().equals(to))
                            .map(SegmentBatcherTest::bytesOf)
                            .toList(),
                    out.stream()
                            .filter(o -> o.to().equals(to))
                            .flatMap(o -> o.datagrams().stream())
                            .toList());
        }
    }

    @Test
    void aLoneDatagramLeavesUncopiedAndDisabledSendsEachAlone() {
        Send one = datagram(A, 200, 1);
        ByteBuf original = one.content();
        batch(one);
        OutboundDatagram d = channel.readOutbound();
        assertEquals(0, d.segmentSize());
        assertTrue(d.content() == original, "a group of one is the datagram as it came");
        d.release();

        batcher.disable();
        batch(datagram(A, 100, 2), datagram(A, 100, 3));
        assertEquals(List.of(0, 0), written().stream().map(Out::segmentSize).toList());
    }

    @Test
    void aGroupsBufferComesBackAfterTheSendAndCarriesTheNextGroup() {
        batch(datagram(A, 100, 1), datagram(A, 100, 2));
        OutboundDatagram first = channel.readOutbound();
        ByteBuf lent = first.content();
        assertEquals(0, batcher.spareBuffers());
        assertTrue(first.release(), "Netty's release after the send");
        assertEquals(1, batcher.spareBuffers(), "given back, not freed");
        assertEquals(1, lent.refCnt());

        batch(datagram(B, 60, 3), datagram(B, 60, 4), datagram(B, 60, 5));
        OutboundDatagram second = channel.readOutbound();
        assertTrue(second.content() == lent, "the same buffer, cleared, for the next group");
        assertEquals(180, second.content().readableBytes());
        second.retain();
        assertFalse(second.release(), "a retain holds the buffer");
        assertEquals(0, batcher.spareBuffers());
        assertTrue(second.release());
        assertEquals(1, batcher.spareBuffers());

        batcher.discard();
        assertEquals(0, lent.refCnt(), "discard frees the spares");
    }

    @Test
    void discardReleasesWhatAGroupHolds() {
        ChannelHandlerContext ctx = channel.pipeline().firstContext();
        Send s1 = datagram(A, 100, 1), s2 = datagram(A, 100, 2), s3 = datagram(B, 100, 3);
        batcher.send(ctx, s1.content(), A);
        batcher.send(ctx, s2.content(), A);
        batcher.send(ctx, s3.content(), B);
        assertEquals(2, batcher.openGroups());
        batcher.discard();
        assertEquals(0, batcher.openGroups());
        assertNull(channel.readOutbound(), "nothing was written");
    }

    private static void assertDatagrams(List<byte[]> expected, List<byte[]> got) {
        assertEquals(expected.size(), got.size(), "datagram count");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), got.get(i), "datagram " + i);
        }
    }
}
