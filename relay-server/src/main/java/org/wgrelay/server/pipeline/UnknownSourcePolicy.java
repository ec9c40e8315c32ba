package org.wgrelay.server.pipeline;

import org.wgrelay.server.counters.RelayCounter;

/**
 * What becomes of a shaped datagram whose source endpoint is not a registered peer's
 * (SPEC rule 3, "unknown source"): the seam where roaming plugs in. An implementation
 * only decides — forward it (a candidate's handshake) or drop it for a reason; the
 * {@link SourceLookup} that asks does the write or the drop and counts it.
 *
 * <p>Called on the worker's event loop; must not block, write, count or release, and
 * must not keep the {@link Datagram}, which the worker reuses for the next datagram.
 */
public interface UnknownSourcePolicy {
    /**
     * @return null to forward the datagram to where the policy {@link Datagram#redirect redirected}
     *     it, else the drop reason (one of the per-source reasons of {@code wg show drop_sources})
     */
    RelayCounter decide(Datagram datagram, WorkerState worker);
}
