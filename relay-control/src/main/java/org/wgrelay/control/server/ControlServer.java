package org.wgrelay.control.server;

import com.fasterxml.jackson.databind.node.NullNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.VerbRegistry;

/**
 * The control channel listener (SPEC "Control channel"): TCP, one JSON request per
 * line, one response per line in request order.
 *
 * <p>Threads: one Netty event loop does the socket I/O, framing, time limits and the
 * connection slots; requests run on the {@link VerbDispatcher}'s lanes (read verbs on a
 * few reader threads, operator verbs one at a time on the writer thread), and each
 * connection runs one request at a time, so its responses leave in the order its
 * requests came. Events for subscribers are written from whichever thread publishes them.
 * The limits that keep the listener answering under load are {@link ControlLimits}.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    /** SPEC: a line longer than 64 KiB (without its newline) is frame_too_large. */
    public static final int MAX_LINE_BYTES = 64 * 1024;

    private final InetSocketAddress bindAddress;
    private final ListenerTransport transport;
    private final ControlLimits limits;
    private final VerbDispatcher dispatcher;
    /** Every open connection, for closing them all; the slots decide who stays. */
    private final ChannelGroup connections = new DefaultChannelGroup("control", GlobalEventExecutor.INSTANCE);

    private final ChannelGroup subscribers = new DefaultChannelGroup("subscribers", GlobalEventExecutor.INSTANCE);
    private final ConnectionSlots slots;
    private EventLoopGroup group;
    private Channel listener;
    /** Connections closed to make room, logged at most every 10 s. Event loop only. */
    private long evicted;

    private long nextEvictionLogMillis;

    /**
     * @param token the operator token, or null when mutating verbs are open to all
     */
    public ControlServer(InetSocketAddress bindAddress, VerbRegistry registry, String token) {
        this(bindAddress, registry, token, ControlLimits.DEFAULTS);
    }

    public ControlServer(InetSocketAddress bindAddress, VerbRegistry registry, String token, ControlLimits limits) {
        this(bindAddress, ListenerTransport.NIO, registry, token, limits);
    }

    /** @param transport where the listening socket comes from (a new bound one, or a handed-over one) */
    public ControlServer(
            InetSocketAddress bindAddress,
            ListenerTransport transport,
            VerbRegistry registry,
            String token,
            ControlLimits limits) {
        this.bindAddress = bindAddress;
        this.transport = transport;
        this.limits = limits;
        this.slots = new ConnectionSlots(limits.maxConnections());
        if (registry.find(BuiltinVerbs.SUBSCRIBE.verb()) == null) {
            // Subscribing changes the connection, so the connection answers it itself.
            registry.bind(BuiltinVerbs.SUBSCRIBE, args -> {
                throw new IllegalStateException("subscribe is handled by the connection");
            });
        }
        this.dispatcher = new VerbDispatcher(registry, token, limits);
    }

    public void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("wg-relay-control-io", true), transport.ioHandlerFactory());
        int high = limits.outputHighWaterBytes();
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channelFactory((io.netty.channel.ChannelFactory<ServerChannel>) transport::newChannel)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(high / 4, high))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        admit(ch);
                        ch.pipeline().addLast(new RequestDeadlines(limits));
                        ch.pipeline().addLast("lines", new LineBasedFrameDecoder(MAX_LINE_BYTES, true, true));
                        ch.pipeline().addLast("control", new ControlConnection(ControlServer.this, limits));
                    }
                });
        try {
            listener = (transport.listening() ? b.register() : b.bind(bindAddress))
                    .sync()
                    .channel();
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** On the loop: gives {@code ch} a slot, closing the least useful connection at the limit. */
    private void admit(Channel ch) {
        Channel victim = slots.admit(ch);
        connections.add(ch);
        ch.closeFuture().addListener(f -> slots.remove(ch));
        if (victim == null) {
            return;
        }
        evicted++;
        long now = System.currentTimeMillis();
        if (now >= nextEvictionLogMillis) {
            LOG.warn(
                    "control: at the limit of {} connections, closing the least recently used to admit new ones"
                            + " ({} closed so far)",
                    limits.maxConnections(),
                    evicted);
            nextEvictionLogMillis = now + 10_000;
        }
        closeWithError(
                victim,
                ErrorCodes.CONNECTION_LIMIT,
                "closed to make room for a newer connection: the relay keeps at most "
                        + limits.maxConnections()
                        + ", and this one had been unused longest");
    }

    /**
     * Writes one error line ({@code "id": null}) and closes. On the connection's loop the
     * write reaches the socket at once if it can; a client whose socket is full does not get
     * the line (it was not reading) and is closed all the same.
     */
    static void closeWithError(Channel ch, String code, String message) {
        if (!ch.eventLoop().inEventLoop()) {
            ch.eventLoop().execute(() -> closeWithError(ch, code, message));
            return;
        }
        if (!ch.isActive()) {
            return;
        }
        ch.config().setAutoRead(false);
        ch.writeAndFlush(
                ByteBufUtil.writeUtf8(ch.alloc(), ControlJson.errorLine(NullNode.getInstance(), code, message) + "\n"));
        ch.close();
    }

    /** The listening channel (its socket is what a takeover hands over); valid once started. */
    public Channel listener() {
        return listener;
    }

    /**
     * Stops accepting: closes this process's listening channel. A socket handed over to another
     * process stays open there, so connections keep being accepted, by that process.
     */
    public void stopListening() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
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
                ch.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8));
            } else {
                LOG.warn("control: dropping subscriber {}: it is not reading its events", ch.remoteAddress());
                subscribers.remove(ch);
                ch.close();
            }
        }
    }

    /** Open connections (any thread). */
    public int connectionCount() {
        return connections.size();
    }

    /** Output written to connections and not yet taken by the kernel, summed (any thread; for tests). */
    long pendingOutputBytes() {
        long sum = 0;
        for (Channel ch : connections) {
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            if (out != null) {
                sum += out.totalPendingWriteBytes();
            }
        }
        return sum;
    }

    /** On the loop: a complete request arrived on {@code ch}. */
    void requestArrived(Channel ch) {
        slots.used(ch);
    }

    void dispatch(String line, java.util.function.Consumer<VerbDispatcher.Answer> done) {
        dispatcher.dispatch(line, done);
    }

    /** On the loop. */
    void subscribe(Channel ch) {
        slots.subscribed(ch);
        subscribers.add(ch);
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        dispatcher.close();
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
