package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.wire.WgMessage;

/**
 * SPEC section B: every handshake (type 1 or 2) that passed rule 5 teaches its partner's
 * session index that its sender index (bytes 4..8) belongs to the sender, so that a hub's
 * later datagrams naming that index find their way back. One O(1) record per handshake,
 * nothing for transport data.
 */
public final class SessionLearner extends ChannelInboundHandlerAdapter {
    private final WorkerState worker;

    public SessionLearner(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Datagram datagram = (Datagram) msg;
        int type = datagram.type();
        if (type == WgMessage.TYPE_HANDSHAKE_INITIATION || type == WgMessage.TYPE_HANDSHAKE_RESPONSE) {
            Partner to = datagram.partner();
            to.runtime()
                    .sessions()
                    .record(
                            WgMessage.index(datagram.content(), WgMessage.SENDER_INDEX_OFFSET),
                            datagram.route().runtime().id(),
                            to.ring(),
                            worker.nowMillis());
        }
        ctx.fireChannelRead(msg);
    }
}
