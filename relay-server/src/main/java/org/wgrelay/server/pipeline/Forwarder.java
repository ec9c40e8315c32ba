package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.table.Route;

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
        DatagramPacket packet = (DatagramPacket) msg;
        Route route = worker.route;
        if (!ctx.channel().isWritable()) {
            worker.destinationOverride = null;
            worker.counters().increment(worker.stripe(), RelayCounter.TX_ERRORS);
            packet.release();
            return;
        }
        ByteBuf content = packet.content();
        int bytes = content.readableBytes();
        worker.counters().increment(worker.stripe(), RelayCounter.FWD_PACKETS);
        route.stats().forwarded(worker.stripe(), bytes);
        InetSocketAddress to = worker.destinationOverride != null ? worker.destinationOverride : route.partnerAddress();
        worker.destinationOverride = null;
        worker.forwardWriteInFlight = true;
        ctx.write(new DatagramPacket(content, to), ctx.voidPromise());
        worker.forwardWriteInFlight = false;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        ctx.fireChannelReadComplete();
    }
}
