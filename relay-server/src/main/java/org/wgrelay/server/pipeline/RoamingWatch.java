package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;

/**
 * SPEC rules 8 and 9 on the forward path: hands each datagram from a registered,
 * linked peer to roaming's {@link LinkedSourceWatch}, which may mirror a handshake response to a
 * roaming candidate, void a candidate, or send this datagram to a committing candidate
 * instead of the partner's old endpoint, or (SPEC E) send it to the candidate standing in for
 * a partner without an endpoint, or drop it ({@code drop_no_endpoint}, the partner's too).
 * Costs two volatile reads when nobody roams.
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
        RelayCounter drop = roaming.watch(datagram, worker);
        if (drop != null) {
            worker.counters().increment(worker.stripe(), drop);
            datagram.partner().runtime().stats().increment(worker.stripe(), PeerCounter.DROP_NO_ENDPOINT);
            datagram.release();
            return;
        }
        ctx.fireChannelRead(datagram);
    }
}
