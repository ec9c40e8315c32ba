package org.wgrelay.server.pipeline;

import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.wire.WgMessage;

/**
 * The unknown-source policy without roaming: nothing from an unregistered endpoint is
 * forwarded. A handshake initiation is {@code drop_handshake_no_pubkey_match} (no stamped
 * key identifies its sender — this policy searches none), everything else
 * {@code drop_unknown_src}.
 */
public final class DropUnknownSources implements UnknownSourcePolicy {
    @Override
    public RelayCounter decide(Datagram datagram, WorkerState worker) {
        return datagram.type() == WgMessage.TYPE_HANDSHAKE_INITIATION
                ? RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH
                : RelayCounter.DROP_UNKNOWN_SRC;
    }
}
