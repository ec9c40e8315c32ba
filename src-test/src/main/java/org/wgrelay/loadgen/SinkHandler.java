// Load generator: receive side of every socket (flows and sinks alike).
package org.wgrelay.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import java.net.PortUnreachableException;

/**
 * Counts every datagram that arrives into the process's {@link SinkStats}
 * and releases it. The receive time is {@code System.nanoTime()} when the
 * datagram reaches this handler, so latency includes the sink's own
 * scheduling delay (udpblast uses the kernel RX timestamp, which Netty's
 * epoll transport does not surface); at a paced rate the difference is a
 * few microseconds.
 *
 * <p>Also the place where send errors surface: the sender writes with the
 * channel's void promise, which reports a failed write here instead of
 * allocating a promise per datagram. Shared by all channels of one event
 * loop, hence {@link ChannelHandler.Sharable}.
 *
 * <p>For the hub benchmark ({@link HubBench}) the flow id on the wire is a
 * WireGuard-like session index ({@link SessionIds#wire}), decoded back here, and
 * the handshake messages that prime the relay's session index are tallied
 * ({@link SinkStats#handshakes}) instead of counted as bad.
 */
@ChannelHandler.Sharable
final class SinkHandler extends ChannelInboundHandlerAdapter {
    private final SinkStats stats;
    private final boolean sessionIds;
    /** Failed writes (ENOBUFS, ECONNREFUSED from a pending ICMP error, ...). */
    long sendErrors;

    SinkHandler(SinkStats stats) {
        this(stats, false);
    }

    /** {@code sessionIds}: flow ids arrive as {@link SessionIds#wire} indices. */
    SinkHandler(SinkStats stats, boolean sessionIds) {
        this.stats = stats;
        this.sessionIds = sessionIds;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long now = System.nanoTime();
        ByteBuf content = msg instanceof DatagramPacket ? ((DatagramPacket) msg).content() : (ByteBuf) msg;
        try {
            if (!Payload.isOurs(content)) {
                if (sessionIds && HubHandshakes.isHandshake(content)) {
                    stats.handshakes.record(content);
                } else {
                    stats.bad++;
                }
                return;
            }
            int id = Payload.flowId(content);
            stats.account(
                    sessionIds ? SessionIds.flow(id) : id,
                    Payload.sequence(content),
                    Payload.sendNanos(content),
                    content.readableBytes(),
                    now);
        } finally {
            content.release(); // the packet and its content are one reference
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A connected UDP socket reports an ICMP port unreachable on the next
        // read (and fails the next send); neither closes the channel.
        if (cause instanceof PortUnreachableException) {
            stats.icmpErrors++;
        } else {
            sendErrors++;
        }
    }
}
