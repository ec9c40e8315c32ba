package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;

/**
 * What happens to a shaped datagram whose source endpoint is not a registered peer's
 * (SPEC rule 3, "unknown source"). This is the seam where roaming plugs in: an
 * implementation may forward the datagram (a candidate's handshake) or drop it.
 *
 * <p>Called on the worker's event loop. The implementation owns the datagram's packet: it
 * writes it on or releases it exactly once, and counts exactly one verdict. It must not keep
 * the {@link Datagram} itself, which the worker reuses for the next datagram.
 */
public interface UnknownSourcePolicy {
    void onUnknownSource(ChannelHandlerContext ctx, Datagram datagram, WorkerState worker);
}
