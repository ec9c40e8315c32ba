package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;

/**
 * Gathers the datagrams one read batch sends to the same recipient into UDP GSO sends
 * ({@code UDP_SEGMENT}): the kernel routes, filters and queues one buffer of several datagrams
 * as one packet and cuts it into the original datagrams only at the end (the device, or the
 * receiving socket on this host), so the per-packet cost of the send path is paid once per
 * group. A receiver sees the datagrams it would have seen without GSO, byte for byte.
 *
 * <p>The kernel's rule shapes a group: datagrams to one recipient, all of one size except the
 * last, which may be shorter. So a group takes datagrams in the order they are sent until one
 * does not fit: a longer one, one after a shorter last, the {@value #MAX_SEGMENTS}th, or one
 * past {@value #MAX_GROUP_BYTES} bytes; then the group is written and the datagram starts the
 * next. A datagram larger than {@code maxSegmentBytes} (as one segment it could exceed the
 * path's MTU, which the kernel refuses for GSO) is written alone. A group of one datagram is
 * written as that datagram, without copying it.
 *
 * <p>Order: to one recipient, datagrams leave in the order they were sent; between recipients
 * there is no order to keep. Every open group is written by {@link #writeAll} at the end of the
 * read batch, just before the flush, so nothing waits longer than it did without grouping.
 *
 * <p>Owned by one worker's event loop. Its groups are a fixed set of objects, and their
 * buffers ({@value #MAX_GROUP_BYTES} bytes each) are lent to the outbound envelope and given
 * back when Netty has sent it, to be used for the next group: after the first few groups,
 * grouping allocates nothing, not even a pooled buffer (whose allocation Netty's leak detector
 * samples, with a stack trace), and takes no lock.
 */
public final class SegmentBatcher {
    /** The kernel's limit on segments per GSO send ({@code UDP_MAX_SEGMENTS}). */
    static final int MAX_SEGMENTS = 64;

    /**
     * Bytes one group holds at most, the size of each lent group buffer: several 1,452-byte
     * WireGuard datagrams, well below the 64 KiB an IP packet may carry, and a buffer Netty's
     * pooled allocator serves from its per-thread cache when a new one is needed.
     */
    static final int MAX_GROUP_BYTES = 32 * 1024;

    /** Recipients with a group open at once; a ninth has one of the eight written first. */
    static final int OPEN_GROUPS = 8;

    /**
     * Group buffers kept for reuse. Netty sends a flushed group at once, so buffers come back
     * before the next batch; more are only in flight while the socket's send buffer is full.
     */
    static final int SPARE_BUFFERS = 16;

    private final OutboundDatagram.Pool pool;
    private final Group[] groups = new Group[OPEN_GROUPS];
    private int open;
    private int maxSegmentBytes;
    private final ByteBuf[] spares = new ByteBuf[SPARE_BUFFERS];
    private int spareCount;
    private Thread owner;
    private boolean discarded;

    SegmentBatcher(OutboundDatagram.Pool pool) {
        this.pool = pool;
        for (int i = 0; i < groups.length; i++) {
            groups[i] = new Group(this);
        }
    }

    /**
     * Groups datagrams of up to {@code maxSegmentBytes} from now on (where the kernel takes GSO
     * sends at all; else this stays off).
     */
    public void enable(int maxSegmentBytes) {
        if (maxSegmentBytes <= 0) {
            throw new IllegalArgumentException("maxSegmentBytes must be positive: " + maxSegmentBytes);
        }
        if (OutboundDatagram.segmentsSupported()) {
            this.maxSegmentBytes = maxSegmentBytes;
        }
    }

    /** Sends every datagram alone from now on; groups already open are still written as groups. */
    public void disable() {
        maxSegmentBytes = 0;
    }

    public boolean enabled() {
        return maxSegmentBytes > 0;
    }

    /**
     * Sends {@code content} (whose ownership it takes) to {@code recipient}: adds it to the
     * recipient's open group, or writes that group and opens the next with it, or writes it alone.
     */
    void send(ChannelHandlerContext ctx, ByteBuf content, InetSocketAddress recipient) {
        if (maxSegmentBytes == 0 && open == 0) {
            ctx.write(pool.take(content, recipient), ctx.voidPromise());
            return;
        }
        int length = content.readableBytes();
        int i = find(recipient);
        if (i >= 0) {
            Group g = groups[i];
            if (maxSegmentBytes > 0 && g.accepts(length)) {
                g.add(ctx, content);
                if (g.full()) {
                    write(ctx, i);
                }
                return;
            }
            write(ctx, i);
        }
        if (maxSegmentBytes == 0 || length > maxSegmentBytes || length == 0) {
            ctx.write(pool.take(content, recipient), ctx.voidPromise());
            return;
        }
        if (open == groups.length) {
            write(ctx, 0);
        }
        groups[open++].start(content, recipient);
    }

    /** Writes every open group (not flushed: the caller flushes once after). */
    void writeAll(ChannelHandlerContext ctx) {
        while (open > 0) {
            write(ctx, open - 1);
        }
    }

    /**
     * Releases the open groups' datagrams unsent and the spare buffers: the channel is going away.
     * Buffers given back later are released.
     */
    void discard() {
        for (int i = 0; i < open; i++) {
            groups[i].release();
        }
        open = 0;
        discarded = true;
        while (spareCount > 0) {
            spares[--spareCount].release();
            spares[spareCount] = null;
        }
    }

    /** Groups open now. For tests. */
    int openGroups() {
        return open;
    }

    /** Spare group buffers now. For tests. */
    int spareBuffers() {
        return spareCount;
    }

    /** An empty group buffer: a spare one, or a new one from {@code ctx}'s allocator. */
    private ByteBuf lendBuffer(ChannelHandlerContext ctx) {
        if (owner == null) {
            owner = Thread.currentThread();
        }
        if (spareCount > 0) {
            ByteBuf b = spares[--spareCount];
            spares[spareCount] = null;
            return b.clear();
        }
        return ctx.alloc().directBuffer(MAX_GROUP_BYTES, MAX_GROUP_BYTES);
    }

    /**
     * Takes back a group buffer an {@link OutboundDatagram} was lent, once Netty is done with it;
     * released instead when it comes from another thread, after {@link #discard}, or when enough
     * are spare.
     */
    void giveBack(ByteBuf buffer) {
        if (Thread.currentThread() == owner && !discarded && spareCount < spares.length) {
            spares[spareCount++] = buffer;
        } else {
            buffer.release();
        }
    }

    private int find(InetSocketAddress recipient) {
        for (int i = 0; i < open; i++) {
            InetSocketAddress r = groups[i].recipient;
            if (r == recipient || r.equals(recipient)) {
                return i;
            }
        }
        return -1;
    }

    /** Writes group {@code i} and closes it; the last open group takes its slot. */
    private void write(ChannelHandlerContext ctx, int i) {
        Group g = groups[i];
        ctx.write(
                g.count == 1
                        ? pool.take(g.takeFirst(), g.recipient)
                        : pool.take(g.takeJoined(), g.recipient, g.segmentSize, this),
                ctx.voidPromise());
        g.recipient = null;
        open--;
        groups[i] = groups[open];
        groups[open] = g;
    }

    /** One recipient's datagrams waiting to leave as one GSO send. */
    private static final class Group {
        final SegmentBatcher batcher;
        InetSocketAddress recipient;
        /** The group's only datagram, until a second joins: sent as it came if none does. */
        ByteBuf first;
        /** The group's datagrams back to back, once there are two. */
        ByteBuf joined;

        int segmentSize;
        int count;
        int bytes;
        /** Its last datagram was shorter than the rest: nothing may follow it. */
        boolean closed;

        Group(SegmentBatcher batcher) {
            this.batcher = batcher;
        }

        void start(ByteBuf content, InetSocketAddress to) {
            recipient = to;
            first = content;
            segmentSize = content.readableBytes();
            count = 1;
            bytes = segmentSize;
            closed = false;
        }

        boolean accepts(int length) {
            return !closed && length > 0 && length <= segmentSize && bytes + length <= MAX_GROUP_BYTES;
        }

        void add(ChannelHandlerContext ctx, ByteBuf content) {
            if (count == 1) {
                joined = batcher.lendBuffer(ctx);
                joined.writeBytes(first, first.readerIndex(), first.readableBytes());
                first.release();
                first = null;
            }
            int length = content.readableBytes();
            joined.writeBytes(content, content.readerIndex(), length);
            content.release();
            count++;
            bytes += length;
            closed = length < segmentSize;
        }

        boolean full() {
            return closed || count == MAX_SEGMENTS || bytes + segmentSize > MAX_GROUP_BYTES;
        }

        ByteBuf takeFirst() {
            ByteBuf b = first;
            first = null;
            return b;
        }

        ByteBuf takeJoined() {
            ByteBuf b = joined;
            joined = null;
            return b;
        }

        void release() {
            if (first != null) {
                first.release();
                first = null;
            }
            if (joined != null) {
                batcher.giveBack(joined);
                joined = null;
            }
            recipient = null;
        }
    }
}
