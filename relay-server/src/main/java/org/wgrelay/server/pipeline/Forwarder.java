package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;

/**
 * Pipeline stage 7 (SPEC rule 7): sends the datagram unchanged to the partner's
 * endpoint from the relay port. The received buffer itself goes out — ownership moves
 * to the outbound {@link OutboundDatagram} (an envelope the worker reuses), no copy, no
 * extra reference count — unless it joins a GSO group, which copies it next to the group's
 * other datagrams.
 *
 * <p>Writes are not flushed per packet: {@link #channelReadComplete} flushes once per
 * read batch, so the epoll transport sends the batch with {@code sendmmsg}. Datagrams go
 * through the worker's {@link SegmentBatcher}, which, when enabled, sends those of the batch
 * to one recipient as UDP GSO groups.
 *
 * <p>When the socket's outbound buffer is over its high-water mark the datagram is
 * dropped and counted ({@code tx_errors}) rather than queued without bound: UDP makes
 * no delivery promise, and WireGuard recovers from loss.
 */
public final class Forwarder extends ChannelInboundHandlerAdapter {
    private final WorkerState worker;

    public Forwarder(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Datagram datagram = (Datagram) msg;
        ByteBuf content = datagram.content();
        InetSocketAddress mirror = datagram.mirrorTo();
        if (mirror != null && ctx.channel().isWritable()) {
            // Rule 8's copy to the partner's candidate: the same bytes, not counted again.
            worker.segments().send(ctx, content.retainedDuplicate(), mirror);
        }
        int bytes = content.readableBytes();
        InetSocketAddress to = datagram.destination();
        if (to == null) {
            // SPEC E without roaming to stand in: the partner has no endpoint yet.
            worker.counters().increment(worker.stripe(), RelayCounter.DROP_NO_ENDPOINT);
            datagram.partner().runtime().stats().increment(worker.stripe(), PeerCounter.DROP_NO_ENDPOINT);
            datagram.release();
            return;
        }
        if (send(ctx, content, to, worker)) {
            datagram.route().stats().forwarded(worker.stripe(), bytes);
        }
    }

    /**
     * Writes {@code content} (whose ownership it takes) to {@code to} from the relay port and
     * counts it in {@code fwd_packets}, or, over the high-water mark, releases it and counts
     * {@code tx_errors}. True when written. The one place a datagram is sent from.
     */
    static boolean send(ChannelHandlerContext ctx, ByteBuf content, InetSocketAddress to, WorkerState worker) {
        if (!ctx.channel().isWritable()) {
            worker.counters().increment(worker.stripe(), RelayCounter.TX_ERRORS);
            content.release();
            return false;
        }
        worker.counters().increment(worker.stripe(), RelayCounter.FWD_PACKETS);
        worker.segments().send(ctx, content, to);
        return true;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        worker.segments().writeAll(ctx);
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        worker.segments().discard();
    }
}
