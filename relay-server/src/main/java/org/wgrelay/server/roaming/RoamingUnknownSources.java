package org.wgrelay.server.roaming;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DatagramPacket;
import org.wgrelay.server.pipeline.UnknownSourcePolicy;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.wire.WgMessage;

/** SPEC rule 3 with roaming: the unknown-source seam handed to the {@link RoamingEngine}. */
public final class RoamingUnknownSources implements UnknownSourcePolicy {
    private final RoamingEngine engine;

    public RoamingUnknownSources(RoamingEngine engine) {
        this.engine = engine;
    }

    @Override
    public void onUnknownSource(ChannelHandlerContext ctx, DatagramPacket packet, WorkerState worker) {
        if (worker.type() == WgMessage.TYPE_HANDSHAKE_INITIATION) {
            engine.onUnknownInitiation(ctx, packet, worker);
        } else {
            engine.onUnknownOther(ctx, packet, worker);
        }
    }
}
