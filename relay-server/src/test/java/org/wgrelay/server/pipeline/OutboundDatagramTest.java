package org.wgrelay.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.pipeline.RelayHarness.address;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.IllegalReferenceCountException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.TestPackets;

/** The worker's reused outbound envelopes: none made per datagram, released exactly once. */
class OutboundDatagramTest {
    private static final InetSocketAddress ALICE = address("192.0.2.10", 51001);
    private static final InetSocketAddress BOB = address("203.0.113.20", 51002);

    @Test
    void aThousandForwardedDatagramsLeaveInOneEnvelopeWhenEachIsReleasedBeforeTheNext() {
        RelayHarness relay =
                new RelayHarness().peer("alice", ALICE).peer("bob", BOB).link("alice", "bob");
        OutboundDatagram first = null;
        for (int i = 0; i < 1000; i++) {
            relay.receive(TestPackets.datagram(4, 64 + i % 1000), ALICE);
            OutboundDatagram out = relay.forwarded();
            assertEquals(BOB, out.recipient());
            assertEquals(64 + i % 1000, out.content().readableBytes(), "its own datagram's bytes");
            if (first == null) {
                first = out;
            }
            assertSame(first, out, "the envelope given back is the one taken next");
            assertTrue(out.release());
        }
        assertEquals(1, relay.worker.outbound().created());
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void envelopesStillInFlightAreNotHandedOutAgain() {
        RelayHarness relay =
                new RelayHarness().peer("alice", ALICE).peer("bob", BOB).link("alice", "bob");
        relay.receive(TestPackets.datagram(4, 64), ALICE);
        relay.receive(TestPackets.datagram(4, 65), ALICE);
        OutboundDatagram a = relay.forwarded();
        OutboundDatagram b = relay.forwarded();
        assertFalse(a == b, "two datagrams queued: two envelopes");
        assertEquals(64, a.content().readableBytes());
        assertEquals(65, b.content().readableBytes());
        a.release();
        b.release();
        assertEquals(2, relay.worker.outbound().created());
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void isADatagramPacketBecauseNettyBatchesOnlyThoseIntoSendmmsg() {
        // NativeDatagramPacketArray (Netty 4.2.18) adds a DatagramPacket, or a ByteBuf on a
        // connected channel, to the sendmmsg vector; any other AddressedEnvelope is written
        // alone with sendto. Measured: 10 B/pkt more allocated and one syscall per datagram.
        OutboundDatagram d = (OutboundDatagram)
                new OutboundDatagram.Pool().take(Unpooled.directBuffer(8).writeLong(7), BOB);
        DatagramPacket asNettySeesIt = d;
        assertSame(d.content(), asNettySeesIt.content(), "Netty reads this envelope's content");
        assertEquals(BOB, asNettySeesIt.recipient());
        assertNull(asNettySeesIt.sender());
        assertEquals(8, asNettySeesIt.content().readableBytes());
        // Netty asks the kernel for UDP_SEGMENT only when the content is longer than the
        // segment size; 0 is never positive, so this is one plain datagram.
        assertEquals(0, ((io.netty.channel.unix.SegmentedDatagramPacket) asNettySeesIt).segmentSize());
        assertTrue(asNettySeesIt.release());
    }

    @Test
    void releaseReleasesTheContentOnceAndASecondReleaseThrows() {
        OutboundDatagram.Pool pool = new OutboundDatagram.Pool();
        ByteBuf content = Unpooled.directBuffer(16).writeZero(16);
        OutboundDatagram d = (OutboundDatagram) pool.take(content, BOB);
        d.retain();
        assertEquals(2, d.refCnt());
        assertEquals(2, content.refCnt());
        assertFalse(d.release(), "one reference left");
        assertEquals(BOB, d.recipient());
        assertTrue(d.release(), "the last reference frees the content");
        assertEquals(0, content.refCnt());
        assertNull(d.recipient(), "cleared for the next datagram");
        assertThrows(IllegalReferenceCountException.class, d::release);
        assertThrows(IllegalReferenceCountException.class, d::content);
    }
}
