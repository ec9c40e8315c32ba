package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Route;

/**
 * Pipeline stage 3 (SPEC rule 3): finds the registered peer by the datagram's source
 * endpoint in the current forwarding table — one volatile read and one O(1) lookup,
 * no lock, no allocation. A known source counts the peer's {@code rx_*} and
 * {@code last_seen} and goes on with {@link WorkerState#route} set; an unknown source
 * goes to the {@link UnknownSourcePolicy}, which owns it from then on.
 */
public final class SourceLookup extends ChannelInboundHandlerAdapter {
    private final ForwardingTableHolder tables;
    private final UnknownSourcePolicy unknownSources;
    private final WorkerState worker;

    public SourceLookup(ForwardingTableHolder tables, UnknownSourcePolicy unknownSources, WorkerState worker) {
        this.tables = tables;
        this.unknownSources = unknownSources;
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        DatagramPacket packet = (DatagramPacket) msg;
        Route route = tables.current().lookup(packet.sender());
        if (route == null) {
            worker.route = null;
            unknownSources.onUnknownSource(ctx, packet, worker);
            return;
        }
        route.stats().received(worker.stripe(), packet.content().readableBytes(), worker.nowMillis());
        worker.route = route;
        ctx.fireChannelRead(packet);
    }
}
