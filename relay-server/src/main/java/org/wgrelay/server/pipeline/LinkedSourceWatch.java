package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;

/**
 * What the forward path shows roaming of a datagram from a registered, linked peer on its
 * way to the partner (SPEC rules 8 and 9, and voiding): the seam where roaming watches
 * known sources, as {@link UnknownSourcePolicy} is the one for unknown sources. Roaming
 * sits above the pipeline and plugs in here; the pipeline knows nothing of candidates.
 *
 * <p>Called on the worker's event loop, before the forwarder. The caller keeps
 * ownership of the datagram; an implementation that sends a copy retains its content.
 */
public interface LinkedSourceWatch {
    /** Where this datagram must go instead of the partner's committed endpoint, or null. */
    InetSocketAddress watch(ChannelHandlerContext ctx, Datagram datagram, WorkerState worker);
}
