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
 */
@ChannelHandler.Sharable
final class SinkHandler extends ChannelInboundHandlerAdapter {
    private final SinkStats stats;
    /** Failed writes (ENOBUFS, ECONNREFUSED from a pending ICMP error, ...). */
    long sendErrors;

    SinkHandler(SinkStats stats) {
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long now = System.nanoTime();
        ByteBuf content = msg instanceof DatagramPacket ? ((DatagramPacket) msg).content() : (ByteBuf) msg;
        try {
            if (!Payload.isOurs(content)) {
                stats.bad++;
                return;
            }
            stats.account(
                    Payload.flowId(content),
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
