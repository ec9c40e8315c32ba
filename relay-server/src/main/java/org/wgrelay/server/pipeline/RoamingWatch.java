package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * SPEC rules 8 and 9 on the forward path: hands each datagram from a registered,
 * linked peer to roaming's {@link LinkedSourceWatch}, which may mirror a handshake response to a
 * roaming candidate, void a candidate, or send this datagram to a committing candidate
 * instead of the partner's old endpoint. Costs two volatile reads when nobody roams.
 */
public final class RoamingWatch extends ChannelInboundHandlerAdapter {
    private final LinkedSourceWatch roaming;
    private final WorkerState worker;

    public RoamingWatch(LinkedSourceWatch roaming, WorkerState worker) {
        this.roaming = roaming;
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Datagram datagram = (Datagram) msg;
        roaming.watch(datagram, worker);
        ctx.fireChannelRead(datagram);
    }
}
