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
 * no relay listens there (a stale file is what a relay killed with SIGKILL leaves); any other
 * failure (a socket of another user, say) is not taken for staleness.
 */
final class HandoverConnector {
    private HandoverConnector() {}

    /** What a failed connect means. */
    enum Failure {
        /** Refused, or no socket at the path: nobody listens. */
        STALE,
        /** Something else (permissions, a timeout): someone may well listen. */
        OTHER
    }

    /** Why the last {@link #connect} of this thread failed. */
    private static final ThreadLocal<Failure> LAST = new ThreadLocal<>();

    static Failure lastFailure() {
        return LAST.get();
    }

    /** A connected channel with its own one-thread group (closed with the channel), or null ({@link #lastFailure}). */
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
            String why = String.valueOf(f.cause());
            LAST.set(
                    why.contains("Connection refused") || why.contains("No such file") ? Failure.STALE : Failure.OTHER);
            f.channel().close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            return null;
        }
        f.channel().closeFuture().addListener(c -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        return f.channel();
    }

    /** False only when nobody listens at {@code path} (refused or absent); true when in doubt. */
    static boolean answers(Path path, Duration timeout) {
        Channel ch = connect(path, timeout, new io.netty.channel.ChannelInboundHandlerAdapter());
        if (ch == null) {
            return lastFailure() != Failure.STALE;
        }
        ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        return true;
    }
}
