package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.wire.WgMessage;

/**
 * The unknown-source policy without roaming: nothing from an unregistered endpoint is
 * forwarded. A handshake initiation counts as {@code drop_handshake_no_pubkey_match}
 * (no stamped key identifies its sender — this policy searches none), everything else
 * as {@code drop_unknown_src}; both are also counted against the source IP.
 */
public final class DropUnknownSources implements UnknownSourcePolicy {
    @Override
    public void onUnknownSource(ChannelHandlerContext ctx, Datagram datagram, WorkerState worker) {
        RelayCounter reason = datagram.type() == WgMessage.TYPE_HANDSHAKE_INITIATION
                ? RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH
                : RelayCounter.DROP_UNKNOWN_SRC;
        worker.counters().increment(worker.stripe(), reason);
        worker.dropSources().record(datagram.sender().getAddress(), reason, worker.nowMillis());
        datagram.release();
    }
}
