package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.RelayCounter;

/**
 * Pipeline stage 1 (SPEC rule 1): datagrams from a blocklisted source IP are dropped
 * before anything else looks at them, so a blocked forger costs one map read.
 * Counts {@code drop_blocklisted}; owns and releases what it drops.
 *
 * <p>IPv4 senders on a dual-stack socket arrive as {@code Inet4Address}: Netty's epoll
 * transport builds sender addresses with {@code InetAddress.getByAddress}, which turns
 * IPv4-mapped addresses into IPv4 ones, so the blocklist's IPv4 keys match them.
 */
public final class BlocklistGate extends ChannelInboundHandlerAdapter {
    private final Blocklist blocklist;
    private final WorkerState worker;

    public BlocklistGate(Blocklist blocklist, WorkerState worker) {
        this.blocklist = blocklist;
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket) {
            DatagramPacket packet = (DatagramPacket) msg;
            // The emptiness check first spares the common case the clock read.
            if (!blocklist.isEmpty() && blocklist.isBlocked(packet.sender().getAddress(), worker.nowMillis())) {
                worker.counters().increment(worker.stripe(), RelayCounter.DROP_BLOCKLISTED);
                packet.release();
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }
}
