package org.wgrelay.server.roaming;

import java.net.InetSocketAddress;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.pipeline.Datagram;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.table.RoamingSlot;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.wire.WgMessage;

/**
 * SPEC E: a candidate stands in for a missing endpoint. Wherever a datagram would go to a
 * peer's committed endpoint and the peer has none, it goes to the peer's candidate, at
 * most one initiation and one transport datagram a second; with neither it is
 * {@code drop_no_endpoint}.
 */
final class StandIn {
    private StandIn() {}

    /**
     * Redirects an unknown source's datagram to peer {@code to}'s endpoint or, without one,
     * to its candidate (SPEC E); null when sent, else {@code drop_no_endpoint}, also counted
     * as the peer's own. An initiation is remembered as the peer's partner's last (SPEC E's
     * responder learning).
     */
    static RelayCounter sendTo(Datagram datagram, Route to, WorkerState worker) {
        InetSocketAddress address = reach(
                to.peer().endpoint() == null ? null : to.peer().endpoint().socketAddress(),
                to.runtime().roaming(),
                datagram.type(),
                worker.nowMillis());
        if (address == null) {
            to.stats().increment(worker.stripe(), PeerCounter.DROP_NO_ENDPOINT);
            return RelayCounter.DROP_NO_ENDPOINT;
        }
        datagram.redirect(address);
        return null;
    }

    /**
     * Where a datagram for a peer goes: its committed endpoint {@code address}, or (SPEC E)
     * when it has none the candidate in its {@code slot}, at most one initiation and one
     * transport datagram a second; null when neither may take it.
     */
    static InetSocketAddress reach(InetSocketAddress address, RoamingSlot slot, int type, long now) {
        if (address != null) {
            return address;
        }
        Candidate c = Candidate.in(slot);
        if (c == null || !(c.isLive() || c.state() == Candidate.COMMITTING)) {
            return null;
        }
        if ((type == WgMessage.TYPE_HANDSHAKE_INITIATION && !c.takeStandInInit(now))
                || (type == WgMessage.TYPE_TRANSPORT_DATA && !c.takeStandInTransport(now))) {
            return null;
        }
        return c.address();
    }
}
