package org.wgrelay.control.server;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * Where a TCP listener's socket comes from: a new one bound to the configured address, or
 * one that is already bound and listening because a running relay handed it over (SPEC D).
 * The listener's event loop must be of the transport the channel belongs to, so both come
 * from here.
 */
public interface ListenerTransport {
    /** A new NIO socket bound to the configured address: what the listeners use unless told otherwise. */
    ListenerTransport NIO = new ListenerTransport() {
        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }

        @Override
        public ServerChannel newChannel() {
            return new NioServerSocketChannel();
        }

        @Override
        public boolean listening() {
            return false;
        }
    };

    IoHandlerFactory ioHandlerFactory();

    ServerChannel newChannel();

    /**
     * True when {@link #newChannel} returns a socket that is already bound and listening:
     * the listener then only registers it, and the configured address is not used.
     */
    boolean listening();
}
