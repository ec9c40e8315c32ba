package org.wgrelay.server.pipeline;

/**
 * What the forward path shows roaming of a datagram from a registered, linked peer on its
 * way to the partner (SPEC rules 8 and 9, and voiding): the seam where roaming watches
 * known sources, as {@link UnknownSourcePolicy} is the one for unknown sources. Roaming
 * sits above the pipeline and plugs in here; the pipeline knows nothing of candidates.
 *
 * <p>Called on the worker's event loop, before the forwarder. An implementation only
 * marks the datagram — {@link Datagram#redirect} to send it to a committing candidate,
 * {@link Datagram#mirror} to send a copy to a candidate too — and the {@link Forwarder}
 * does the writes. It must not block, write, count or release.
 */
public interface LinkedSourceWatch {
    void watch(Datagram datagram, WorkerState worker);
}
