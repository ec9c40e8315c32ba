package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.wgrelay.server.counters.RelayCounter;

/**
 * Pipeline stage 0: counts every datagram received ({@code rx_packets}), whatever
 * happens to it next. Passes the datagram on untouched.
 */
public final class RxCounter extends ChannelInboundHandlerAdapter {
    private final WorkerState worker;

    public RxCounter(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        worker.counters().increment(worker.stripe(), RelayCounter.RX_PACKETS);
        ctx.fireChannelRead(msg);
    }
}
