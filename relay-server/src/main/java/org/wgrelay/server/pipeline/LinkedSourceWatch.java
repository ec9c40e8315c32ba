package org.wgrelay.server.pipeline;

import org.wgrelay.server.counters.RelayCounter;

/**
 * What the forward path shows roaming of a datagram from a registered, linked peer on its
 * way to the partner (SPEC rules 8 and 9, and voiding): the seam where roaming watches
 * known sources, as {@link UnknownSourcePolicy} is the one for unknown sources. Roaming
 * sits above the pipeline and plugs in here; the pipeline knows nothing of candidates.
 *
 * <p>Called on the worker's event loop, before the forwarder. An implementation only
 * marks the datagram — {@link Datagram#redirect} to send it to a committing candidate,
 * {@link Datagram#mirror} to send a copy to a candidate too — and the {@link Forwarder}
 * does the writes. It must not block, write or release.
 *
 * <p>SPEC E: when the partner has no endpoint yet, its candidate stands in; with none, the
 * answer is {@link RelayCounter#DROP_NO_ENDPOINT}, which the caller counts (aggregate, and
 * the partner's own) and drops.
 */
public interface LinkedSourceWatch {
    /** Marks {@code datagram}; returns null to forward it, or the reason it is dropped. */
    RelayCounter watch(Datagram datagram, WorkerState worker);
}
