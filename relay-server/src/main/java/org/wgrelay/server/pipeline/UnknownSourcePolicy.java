package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DatagramPacket;

/**
 * What happens to a shaped datagram whose source endpoint is not a registered peer's
 * (SPEC rule 3, "unknown source"). This is the seam where roaming plugs in: an
 * implementation may forward the datagram (a candidate's handshake) or drop it.
 *
 * <p>Called on the worker's event loop. The implementation owns {@code packet}: it
 * writes it on or releases it exactly once, and counts exactly one verdict.
 */
public interface UnknownSourcePolicy {
    void onUnknownSource(ChannelHandlerContext ctx, DatagramPacket packet, WorkerState worker);
}
