package org.wgrelay.server.handover;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import org.wgrelay.control.server.ListenerTransport;

/**
 * TCP listeners on the epoll transport, whose sockets have descriptors a takeover can hand
 * over: a new socket, or one received from the relay that handed over.
 */
public final class EpollListeners {
    private EpollListeners() {}

    /** A new epoll socket where epoll is available (else NIO, which cannot be handed over). */
    public static ListenerTransport fresh() {
        return Epoll.isAvailable() ? transport(-1) : ListenerTransport.NIO;
    }

    /** The listening socket {@code fd}, handed over by the relay that ran before; -1: a new one. */
    public static ListenerTransport inherited(int fd) {
        return transport(fd);
    }

    private static ListenerTransport transport(int fd) {
        return new ListenerTransport() {
            @Override
            public IoHandlerFactory ioHandlerFactory() {
                return EpollIoHandler.newFactory();
            }

            @Override
            public ServerChannel newChannel() {
                return fd < 0 ? new EpollServerSocketChannel() : new EpollServerSocketChannel(fd);
            }

            @Override
            public boolean listening() {
                return fd >= 0;
            }
        };
    }

    /** This process's descriptor of a listener's channel, or -1 when it has none (NIO). */
    public static int fdOf(io.netty.channel.Channel listener) {
        return listener instanceof EpollServerSocketChannel e ? e.fd().intValue() : -1;
    }
}
