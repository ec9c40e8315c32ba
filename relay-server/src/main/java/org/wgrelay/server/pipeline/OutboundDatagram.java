package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.util.IllegalReferenceCountException;
import java.net.InetSocketAddress;

/**
 * The envelope a datagram leaves in: its bytes and its recipient, like Netty's outbound
 * {@link DatagramPacket}, but taken from its worker's {@link Pool} and given back to it when
 * Netty is done with it, so that forwarding allocates no envelope per datagram.
 *
 * <p>It is a {@link DatagramPacket} because Netty 4.2's epoll channel batches only those into
 * {@code sendmmsg} ({@code NativeDatagramPacketArray} takes a {@code DatagramPacket} or, connected,
 * a {@code ByteBuf}; any other envelope is sent alone with {@code sendto}). It is more precisely a
 * {@link SegmentedDatagramPacket}, so that one envelope can also carry several datagrams for one
 * recipient as one UDP GSO send ({@link SegmentBatcher}): with a {@link #segmentSize} of 0 it is
 * one plain datagram. The superclass's own fields are fixed at construction, so they hold a
 * placeholder and every accessor Netty uses ({@link #content}, {@link #recipient}, {@link
 * #sender}, {@link #segmentSize}, the reference count) is overridden to read this envelope's
 * fields. Netty's outbound buffer releases the message exactly once, after the
 * send or when it fails; that release releases the content and, when no reference is left, returns
 * the envelope to the pool. As a {@code ByteBufHolder} its bytes count against the write-buffer
 * water marks like any datagram's.
 *
 * <p>Nobody may use an envelope after releasing it: it is cleared and handed out again.
 */
public final class OutboundDatagram extends SegmentedDatagramPacket {
    /** What the superclass's fixed fields hold; never sent, never read through this class. */
    private static final InetSocketAddress PLACEHOLDER = InetSocketAddress.createUnresolved("outbound-datagram", 0);

    private static final boolean SEGMENTS_SUPPORTED = EpollDatagramChannel.isSegmentedDatagramPacketSupported();

    private final Pool pool;
    private ByteBuf content;
    private InetSocketAddress recipient;
    private int segmentSize;
    /** Who lent {@link #content} (a GSO group's buffer) and takes it back, or null. */
    private SegmentBatcher lender;

    private int refs;

    private OutboundDatagram(Pool pool) {
        super(Unpooled.EMPTY_BUFFER, 1, PLACEHOLDER);
        this.pool = pool;
    }

    /**
     * Whether the kernel and Netty's native library take UDP GSO sends ({@code UDP_SEGMENT}, Linux
     * 4.18 on). Without it Netty refuses any {@link SegmentedDatagramPacket}, so {@link Pool#take}
     * then hands out plain {@link DatagramPacket}s instead.
     */
    public static boolean segmentsSupported() {
        return SEGMENTS_SUPPORTED;
    }

    /**
     * A worker's free envelopes. Taken and given back on its event loop; an envelope released on
     * another thread, or when the pool is full, is left to the garbage collector.
     */
    public static final class Pool {
        /** More than the outbound buffer holds in flight between two flushes in practice. */
        static final int CAPACITY = 4096;

        private final OutboundDatagram[] free = new OutboundDatagram[CAPACITY];
        private int size;
        private Thread owner;
        private long created;

        /**
         * An envelope for {@code content} (whose ownership it takes), one datagram to {@code
         * recipient}: an {@link OutboundDatagram}, or a new plain {@link DatagramPacket} where UDP
         * GSO is not supported ({@link #segmentsSupported}).
         */
        public DatagramPacket take(ByteBuf content, InetSocketAddress recipient) {
            if (!SEGMENTS_SUPPORTED) {
                return new DatagramPacket(content, recipient);
            }
            return take(content, recipient, 0, null);
        }

        /**
         * An envelope for {@code content} to {@code recipient}: datagrams of {@code segmentSize}
         * bytes each, the last one possibly shorter, sent with UDP GSO; a {@code segmentSize} of 0
         * makes it one datagram. Only where {@link #segmentsSupported}. With a {@code lender} (a
         * GSO group's buffer) the last release gives the content back to {@link
         * SegmentBatcher#giveBack} instead of releasing it; without one, the envelope takes the
         * content's ownership.
         */
        OutboundDatagram take(ByteBuf content, InetSocketAddress recipient, int segmentSize, SegmentBatcher lender) {
            OutboundDatagram d;
            if (size > 0 && Thread.currentThread() == owner) {
                d = free[--size];
                free[size] = null;
            } else {
                if (owner == null) {
                    owner = Thread.currentThread();
                }
                d = new OutboundDatagram(this);
                created++;
            }
            d.content = content;
            d.recipient = recipient;
            d.segmentSize = segmentSize;
            d.lender = lender;
            d.refs = 1;
            return d;
        }

        /** Envelopes made so far (the rest of the takes were reused ones). For tests. */
        long created() {
            return created;
        }

        private void giveBack(OutboundDatagram d) {
            if (Thread.currentThread() == owner && size < CAPACITY) {
                free[size++] = d;
            }
        }
    }

    @Override
    public ByteBuf content() {
        if (refs <= 0) {
            throw new IllegalReferenceCountException(refs);
        }
        return content;
    }

    /** None: the datagram leaves from the channel's own address. */
    @Override
    public InetSocketAddress sender() {
        return null;
    }

    @Override
    public InetSocketAddress recipient() {
        return recipient;
    }

    /**
     * The size of each datagram this envelope carries (the last may be shorter), or 0 for one
     * datagram. Netty sends {@code UDP_SEGMENT} only when the content is longer than this.
     */
    @Override
    public int segmentSize() {
        return segmentSize;
    }

    @Override
    public int refCnt() {
        return refs;
    }

    @Override
    public OutboundDatagram retain() {
        return retain(1);
    }

    @Override
    public OutboundDatagram retain(int increment) {
        if (refs <= 0) {
            throw new IllegalReferenceCountException(refs, increment);
        }
        content.retain(increment);
        refs += increment;
        return this;
    }

    @Override
    public OutboundDatagram touch() {
        content.touch();
        return this;
    }

    @Override
    public OutboundDatagram touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return release(1);
    }

    @Override
    public boolean release(int decrement) {
        if (decrement <= 0 || refs < decrement) {
            throw new IllegalReferenceCountException(refs, -decrement);
        }
        refs -= decrement;
        if (refs > 0) {
            content.release(decrement);
            return false;
        }
        ByteBuf c = content;
        SegmentBatcher from = lender;
        content = null;
        recipient = null;
        lender = null;
        pool.giveBack(this);
        if (from == null) {
            return c.release(decrement);
        }
        // A lent buffer keeps the one reference its lender holds; the rest were our retains.
        if (decrement > 1) {
            c.release(decrement - 1);
        }
        from.giveBack(c);
        return true;
    }

    // ByteBufHolder's copies: Netty's own class, off the forwarding path (Netty's
    // filterOutboundMessage uses replace() when content must be copied to a direct buffer).

    @Override
    public SegmentedDatagramPacket copy() {
        return replace(content().copy());
    }

    @Override
    public SegmentedDatagramPacket duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public SegmentedDatagramPacket retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public SegmentedDatagramPacket replace(ByteBuf replacement) {
        // Netty's class needs a positive size; one larger than the content means one datagram.
        return new SegmentedDatagramPacket(
                replacement, segmentSize > 0 ? segmentSize : Math.max(1, replacement.readableBytes()), recipient);
    }

    @Override
    public String toString() {
        return "OutboundDatagram(to " + recipient + ", "
                + (refs > 0 ? content.readableBytes() + " B" : "released")
                + (segmentSize > 0 ? " in segments of " + segmentSize + " B" : "")
                + ")";
    }
}
