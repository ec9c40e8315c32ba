package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Route;

/**
 * Pipeline stage 3 (SPEC rule 3): finds the registered peer by the datagram's source
 * endpoint in the current forwarding table — one volatile read and one O(1) lookup,
 * no lock, no allocation. A known source counts the peer's {@code rx_*} and
 * {@code last_seen} and goes on with its {@link Datagram#route} set. An unknown source's
 * fate is the {@link UnknownSourcePolicy}'s to decide and this stage's to carry out: the
 * one write (a candidate's handshake, counted in {@code fwd_packets} but no peer's) or the
 * one drop, counted in the aggregate and against the source IP.
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
        Datagram datagram = (Datagram) msg;
        Route route = tables.current().lookup(datagram.sender());
        if (route == null) {
            RelayCounter drop = unknownSources.decide(datagram, worker);
            if (drop == null) {
                Forwarder.send(ctx, datagram.content(), datagram.destination(), worker);
            } else {
                worker.counters().increment(worker.stripe(), drop);
                if (DropSourceTable.countsPerSource(drop)) {
                    worker.dropSources().record(datagram.sender().getAddress(), drop, worker.nowMillis());
                }
                datagram.release();
            }
            return;
        }
        route.stats().received(worker.stripe(), datagram.content().readableBytes(), worker.nowMillis());
        datagram.route(route);
        ctx.fireChannelRead(datagram);
    }
}
