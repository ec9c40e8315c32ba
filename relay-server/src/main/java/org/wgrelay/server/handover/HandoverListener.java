package org.wgrelay.server.handover;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running relay's side of a takeover (SPEC D): a Unix socket next to the roster, mode
 * 0600, on which a new relay of the same user asks for the sockets. One takeover at a time;
 * each connection is a {@link HandoverSession}.
 *
 * <p>Threat: the descriptors it hands out are the relay's sockets, so only the relay's own
 * user (or root) may connect. The mode keeps other users out; the peer's credentials are
 * checked as well, which also covers the moment between bind and chmod.
 */
public final class HandoverListener implements HandoverSlot, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HandoverListener.class);
    static final int MAX_LINE_BYTES = 64 * 1024;

    private final Path path;
    private final HandoverSource source;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("wg-relay-handover", true), EpollIoHandler.newFactory());
    private volatile Channel server;

    private final AtomicBoolean busy = new AtomicBoolean();

    private HandoverListener(Path path, HandoverSource source) {
        this.path = path;
        this.source = source;
    }

    /**
     * Listens at {@code path}, replacing a stale socket file there. Returns null (and logs
     * why) when another relay answers at that path, or when the socket cannot be bound: the
     * relay then runs without taking part in takeovers. (After a takeover the path is free:
     * the relay that handed over closed its socket before it answered {@code stopped}.)
     */
    public static HandoverListener listen(Path path, HandoverSource source) {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (HandoverConnector.answers(path, Duration.ofSeconds(1))) {
                LOG.warn(
                        "handover socket {} belongs to another running relay (or cannot be checked): this relay"
                                + " cannot be taken over",
                        path);
                return null;
            }
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                LOG.warn("cannot remove the stale handover socket {}: {}; this relay cannot be taken over", path, e);
                return null;
            }
        }
        HandoverListener listener = new HandoverListener(path, source);
        try {
            listener.bind();
            return listener;
        } catch (Exception e) {
            LOG.warn("cannot listen for a takeover at {}: {}; this relay cannot be taken over", path, e.toString());
            listener.group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            return null;
        }
    }

    /** Binds the path (which must be free), mode 0600. */
    private void bind() throws Exception {
        int ownUid = ownUid();
        server = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) throws IOException {
                        PeerCredentials peer = ch.peerCredentials();
                        if (peer.uid() != ownUid && peer.uid() != 0) {
                            LOG.warn("handover: refused a connection from uid {} (pid {})", peer.uid(), peer.pid());
                            ch.close();
                            return;
                        }
                        ch.pipeline()
                                .addLast(new LineBasedFrameDecoder(MAX_LINE_BYTES))
                                .addLast(new StringDecoder(StandardCharsets.UTF_8))
                                .addLast(new HandoverSession(source, HandoverListener.this));
                    }
                })
                .bind(new DomainSocketAddress(path.toString()))
                .sync()
                .channel();
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    }

    public Path path() {
        return path;
    }

    @Override
    public boolean claim() {
        return busy.compareAndSet(false, true);
    }

    @Override
    public void release() {
        busy.set(false);
    }

    /**
     * Stops listening; closing the channel removes the socket file (Netty does), so this runs
     * before the new relay binds the path. Idempotent.
     */
    @Override
    public void stopListening() {
        Channel ch = server;
        if (ch != null) {
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    /** Listens again after {@link #stopListening} (a takeover that broke off late); false if it cannot. */
    @Override
    public boolean relisten() {
        try {
            Files.deleteIfExists(path); // a socket of the new relay that went away
            bind();
            return true;
        } catch (Exception e) {
            LOG.warn("cannot listen for a takeover at {} again: {}; restart this relay to allow one", path, e);
            return false;
        }
    }

    @Override
    public void close() {
        stopListening();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static int ownUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot tell this process's uid", e);
        }
    }
}
