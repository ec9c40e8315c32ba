package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import org.wgrelay.server.counters.RelayCounter;

/**
 * Pipeline stage 7 (SPEC rule 7): sends the datagram unchanged to the partner's
 * endpoint from the relay port. The received buffer itself goes out — ownership moves
 * to the outbound {@link DatagramPacket}, no copy, no extra reference count.
 *
 * <p>Writes are not flushed per packet: {@link #channelReadComplete} flushes once per
 * read batch, so the epoll transport sends the batch with {@code sendmmsg}.
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
        if (!ctx.channel().isWritable()) {
            worker.counters().increment(worker.stripe(), RelayCounter.TX_ERRORS);
            datagram.release();
            return;
        }
        ByteBuf content = datagram.content();
        worker.counters().increment(worker.stripe(), RelayCounter.FWD_PACKETS);
        datagram.route().stats().forwarded(worker.stripe(), content.readableBytes());
        ctx.write(new DatagramPacket(content, datagram.destination()), ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        ctx.fireChannelReadComplete();
    }
}
