package org.wgrelay.server.handover;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Connects to a handover socket. A connection that is refused, or a path with no socket, means
 * no relay listens there (a stale file is what a relay killed with SIGKILL leaves).
 */
final class HandoverConnector {
    private HandoverConnector() {}

    /** A connected channel with its own one-thread group (closed with the channel), or null: nobody listens. */
    static Channel connect(Path path, Duration timeout, ChannelHandler handler) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("wg-relay-takeover", true), EpollIoHandler.newFactory());
        ChannelFuture f = new Bootstrap()
                .group(group)
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis())
                .handler(handler)
                .connect(new DomainSocketAddress(path.toString()));
        f.awaitUninterruptibly(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        if (!f.isSuccess()) {
            f.channel().close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            return null;
        }
        f.channel().closeFuture().addListener(c -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        return f.channel();
    }

    /** True when a process accepts connections at {@code path}. */
    static boolean answers(Path path, Duration timeout) {
        Channel ch = connect(path, timeout, new io.netty.channel.ChannelInboundHandlerAdapter());
        if (ch == null) {
            return false;
        }
        ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        return true;
    }
}
