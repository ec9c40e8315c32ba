package org.wgrelay.server.daemon;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sd_notify} for {@code Type=notify} units: one datagram to {@code $NOTIFY_SOCKET}
 * (absent: not under systemd, nothing is sent). The relay sends {@code READY=1} once it
 * serves, and after a takeover {@code MAINPID=<own pid>} with it, so that systemd follows the
 * new process before the old one exits (docs/operations.md).
 */
final class SystemdNotify {
    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotify.class);

    private SystemdNotify() {}

    static void ready(boolean tookOver) {
        String state = tookOver
                ? "MAINPID=" + ProcessHandle.current().pid() + "\nREADY=1\nSTATUS=took over the sockets"
                : "READY=1\nSTATUS=serving";
        send(System.getenv("NOTIFY_SOCKET"), state);
    }

    static void send(String socket, String state) {
        if (socket == null || socket.isEmpty() || !Epoll.isAvailable()) {
            return;
        }
        // '@' names a socket in the abstract namespace, whose address starts with a NUL byte.
        String path = socket.startsWith("@") ? "\0" + socket.substring(1) : socket;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("wg-relay-sd-notify", true), EpollIoHandler.newFactory());
        try {
            Channel ch = new Bootstrap()
                    .group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(new DomainSocketAddress(path))
                    .sync()
                    .channel();
            ch.writeAndFlush(Unpooled.copiedBuffer(state, StandardCharsets.UTF_8))
                    .sync();
            ch.close().sync();
        } catch (Exception e) {
            LOG.warn("cannot notify systemd at {}: {}", socket, e.toString());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
