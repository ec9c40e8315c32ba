package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.wire.WgMessage;

/**
 * Pipeline stage 5 (SPEC rule 5): a handshake (type 1 or 2) from a registered peer whose
 * partner has a stamped public key must carry a MAC1 made with that key; otherwise it
 * is not meant for the partner and is dropped ({@code drop_handshake_pubkey_mismatch},
 * and the peer's {@code drop_pubkey_mismatch}). Transport data passes untouched: only
 * handshakes pay for the check, with the key derived when it was stamped.
 */
public final class Mac1Verifier extends ChannelInboundHandlerAdapter {
    private final WorkerState worker;

    public Mac1Verifier(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Datagram datagram = (Datagram) msg;
        int type = datagram.type();
        Route route = datagram.route();
        if (type == WgMessage.TYPE_HANDSHAKE_RESPONSE
                || (type == WgMessage.TYPE_HANDSHAKE_INITIATION && !route.isHub())) {
            // A hub's initiation found its partner by this very check (HubRouter); a hub's
            // response is checked here against the partner its receiver index named (SPEC B).
            byte[] key = datagram.partner().mac1Key();
            if (key != null && !worker.mac1().verify(datagram.content(), key)) {
                worker.counters().increment(worker.stripe(), RelayCounter.DROP_HANDSHAKE_PUBKEY_MISMATCH);
                route.stats().increment(worker.stripe(), PeerCounter.DROP_PUBKEY_MISMATCH);
                datagram.release();
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }
}
