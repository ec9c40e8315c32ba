package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.table.Route;

/**
 * Pipeline stage 4 (SPEC rule 4): a registered peer without a link has nowhere to
 * send to; its datagrams are dropped with {@code drop_no_link}, counted both in the
 * aggregate and as the peer's own. A peer in one link sends to its one partner, resolved
 * when the table was built; a hub's datagrams go on to the {@link HubRouter} to find theirs.
 */
public final class LinkLookup extends ChannelInboundHandlerAdapter {
    private final WorkerState worker;

    public LinkLookup(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Datagram datagram = (Datagram) msg;
        Route route = datagram.route();
        if (!route.linked()) {
            worker.counters().increment(worker.stripe(), RelayCounter.DROP_NO_LINK);
            route.stats().increment(worker.stripe(), PeerCounter.DROP_NO_LINK);
            datagram.release();
            return;
        }
        if (!route.isHub()) {
            datagram.partner(route.solePartner());
        }
        ctx.fireChannelRead(msg);
    }
}
