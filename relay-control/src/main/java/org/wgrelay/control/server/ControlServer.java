package org.wgrelay.control.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.VerbRegistry;

/**
 * The control channel listener (SPEC "Control channel"): TCP, one JSON request per
 * line, one response per line in request order.
 *
 * <p>Threads: one Netty event loop does the socket I/O and framing; every verb runs on
 * one control executor thread, so mutations are applied one at a time across all
 * connections and each connection's responses leave in the order its requests came.
 * Events for subscribers are written from whichever thread publishes them.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    /** SPEC: a line longer than 64 KiB (without its newline) is frame_too_large. */
    public static final int MAX_LINE_BYTES = 64 * 1024;

    static final int MAX_CONNECTIONS = 256;
    /** A subscriber whose unread events pass this many bytes is dropped. */
    static final int SUBSCRIBER_HIGH_WATER_BYTES = 256 * 1024;

    private final InetSocketAddress bindAddress;
    private final VerbRegistry registry;
    private final byte[] token;
    private final ExecutorService executor =
            Executors.newSingleThreadExecutor(new DefaultThreadFactory("wg-relay-control", true));
    private final ChannelGroup connections = new DefaultChannelGroup("control", GlobalEventExecutor.INSTANCE);
    private final ChannelGroup subscribers = new DefaultChannelGroup("subscribers", GlobalEventExecutor.INSTANCE);
    private EventLoopGroup group;
    private Channel listener;
    /** Refusals over the connection limit, logged at most every 10 s. I/O thread only. */
    private long refused;

    private long nextRefusalLogMillis;

    /**
     * @param token the operator token, or null when mutating verbs are open to all
     */
    public ControlServer(InetSocketAddress bindAddress, VerbRegistry registry, String token) {
        this.bindAddress = bindAddress;
        this.registry = registry;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        if (registry.find(BuiltinVerbs.SUBSCRIBE.verb()) == null) {
            // Subscribing changes the connection, so the channel handler answers it itself.
            registry.bind(BuiltinVerbs.SUBSCRIBE, args -> {
                throw new IllegalStateException("subscribe is handled by the connection");
            });
        }
    }

    public void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("wg-relay-control-io", true), NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(
                        ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(SUBSCRIBER_HIGH_WATER_BYTES / 4, SUBSCRIBER_HIGH_WATER_BYTES))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.size() >= MAX_CONNECTIONS) {
                            refused++;
                            long now = System.currentTimeMillis();
                            if (now >= nextRefusalLogMillis) {
                                LOG.warn(
                                        "control: refusing connections at the limit of {} ({} refused so far)",
                                        MAX_CONNECTIONS,
                                        refused);
                                nextRefusalLogMillis = now + 10_000;
                            }
                            ch.close();
                            return;
                        }
                        connections.add(ch);
                        ch.pipeline().addLast("lines", new LineBasedFrameDecoder(MAX_LINE_BYTES, true, true));
                        ch.pipeline().addLast("control", new ControlConnection(ControlServer.this));
                    }
                });
        try {
            listener = b.bind(bindAddress).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public int boundPort() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Sends an event line to every subscriber; drops subscribers that stopped reading. */
    public void publish(String event, Object data) {
        if (subscribers.isEmpty()) {
            return;
        }
        String line = ControlJson.eventLine(event, data) + "\n";
        for (Channel ch : subscribers) {
            if (ch.isWritable()) {
                ch.writeAndFlush(io.netty.buffer.Unpooled.copiedBuffer(line, StandardCharsets.UTF_8));
            } else {
                LOG.warn("control: dropping subscriber {}: it is not reading its events", ch.remoteAddress());
                subscribers.remove(ch);
                ch.close();
            }
        }
    }

    VerbRegistry registry() {
        return registry;
    }

    ExecutorService executor() {
        return executor;
    }

    void subscribe(Channel ch) {
        subscribers.add(ch);
    }

    /** Constant-time check of a request's token; true when no token is configured. */
    boolean authorised(String presented) {
        if (token == null) {
            return true;
        }
        byte[] given = presented == null ? new byte[0] : presented.getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(token, given);
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
