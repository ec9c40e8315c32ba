package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.wire.WgMessage;

/**
 * Pipeline stage 2 (SPEC rule 2): only WireGuard-shaped datagrams go on; the rest are
 * dropped with {@code drop_not_wg_shaped}, also counted against the source IP. A shaped
 * one goes on as the worker's {@link Datagram}, with its message type.
 *
 * <p>Threat: the relay port is open to the internet; this is the cheap first filter
 * that keeps arbitrary UDP (scans, amplification probes) off the lookups.
 */
public final class ShapeFilter extends ChannelInboundHandlerAdapter {
    private final WorkerState worker;
    /** The message every shaped datagram of this worker travels in (see {@link Datagram}). */
    private final Datagram inFlight = new Datagram();

    public ShapeFilter(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket)) {
            // Nothing but datagrams arrives on a datagram channel; drop anything else safely.
            ReferenceCountUtil.release(msg);
            return;
        }
        DatagramPacket packet = (DatagramPacket) msg;
        int type = WgMessage.shapedType(packet.content());
        if (type == WgMessage.NOT_SHAPED) {
            worker.counters().increment(worker.stripe(), RelayCounter.DROP_NOT_WG_SHAPED);
            worker.dropSources()
                    .record(packet.sender().getAddress(), RelayCounter.DROP_NOT_WG_SHAPED, worker.nowMillis());
            packet.release();
            return;
        }
        ctx.fireChannelRead(inFlight.start(packet, type));
    }
}
