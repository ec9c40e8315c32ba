package org.wgrelay.server.roaming;

import io.netty.channel.ChannelHandlerContext;
import org.wgrelay.server.pipeline.Datagram;
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
    public void onUnknownSource(ChannelHandlerContext ctx, Datagram datagram, WorkerState worker) {
        if (datagram.type() == WgMessage.TYPE_HANDSHAKE_INITIATION) {
            engine.onUnknownInitiation(ctx, datagram.packet(), worker);
        } else {
            engine.onUnknownOther(ctx, datagram.packet(), datagram.type(), worker);
        }
    }
}
