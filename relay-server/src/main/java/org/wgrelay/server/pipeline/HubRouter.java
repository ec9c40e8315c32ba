package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.wire.WgMessage;

/**
 * SPEC section B: which of a hub's partners a datagram from the hub goes to. An
 * initiation goes to the one partner whose stamped key verifies its MAC1 (none:
 * {@code drop_handshake_pubkey_mismatch}); a response, cookie reply or transport data
 * names its partner only by its receiver index, which the hub's {@link
 * org.wgrelay.server.table.SessionIndex} resolves in O(1) (none, or an owner that is not
 * the hub's partner: {@code drop_no_route}). A datagram from a peer in one link has its
 * partner already and passes straight through.
 *
 * <p>A response may also identify an unidentified roaming candidate of the hub (SPEC B,
 * spokes roam): the {@link UnidentifiedClaim} then names the spoke, by the response's MAC1.
 */
public final class HubRouter extends ChannelInboundHandlerAdapter {
    private final WorkerState worker;
    private final UnidentifiedClaim unidentified;

    /** @param unidentified who may claim a hub's response for an unidentified candidate; null for none */
    public HubRouter(WorkerState worker, UnidentifiedClaim unidentified) {
        this.worker = worker;
        this.unidentified = unidentified;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Datagram datagram = (Datagram) msg;
        Route route = datagram.route();
        if (!route.isHub()) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf content = datagram.content();
        int type = datagram.type();
        if (type == WgMessage.TYPE_HANDSHAKE_INITIATION) {
            for (int i = 0, n = route.partnerCount(); i < n; i++) {
                Partner p = route.partner(i);
                if (p.mac1Key() != null && worker.mac1().verify(content, p.mac1Key())) {
                    datagram.partner(p);
                    ctx.fireChannelRead(msg);
                    return;
                }
            }
            drop(datagram, route, RelayCounter.DROP_HANDSHAKE_PUBKEY_MISMATCH, PeerCounter.DROP_PUBKEY_MISMATCH);
            return;
        }
        int receiverIndex = WgMessage.index(
                content,
                type == WgMessage.TYPE_HANDSHAKE_RESPONSE
                        ? WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET
                        : WgMessage.RECEIVER_INDEX_OFFSET);
        Partner owner = route.runtime().sessions().lookup(receiverIndex, route, worker.nowMillis());
        if (type == WgMessage.TYPE_HANDSHAKE_RESPONSE && unidentified != null) {
            Partner claimed = unidentified.claim(datagram, receiverIndex, worker);
            if (claimed != null) {
                owner = claimed; // the response's MAC1 names its spoke; the index entry agrees or collided
            }
        }
        if (owner == null) {
            drop(datagram, route, RelayCounter.DROP_NO_ROUTE, PeerCounter.DROP_NO_ROUTE);
            return;
        }
        datagram.partner(owner);
        ctx.fireChannelRead(msg);
    }

    private void drop(Datagram datagram, Route route, RelayCounter aggregate, PeerCounter own) {
        worker.counters().increment(worker.stripe(), aggregate);
        route.stats().increment(worker.stripe(), own);
        datagram.release();
    }
}
