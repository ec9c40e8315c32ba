package org.wgrelay.server.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.wgrelay.control.server.ListenerTransport;

/**
 * The metrics listener: {@code /metrics} (Prometheus text), {@code /healthz} (200 while
 * the process serves), {@code /readyz} (200 once the relay is ready: sockets bound,
 * roster loaded, and XDP attached when configured). Its own small event loop, so a
 * slow scraper never touches the workers.
 */
public final class MetricsServer implements AutoCloseable {
    /** Scrapes are bodiless GETs; anything larger is not a scraper. */
    private static final int MAX_REQUEST_BYTES = 8192;

    private final InetSocketAddress bindAddress;
    private final ListenerTransport transport;
    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;
    private final Runnable beforeScrape;
    private EventLoopGroup group;
    private Channel listener;

    /** @param beforeScrape runs before each scrape: brings counters kept elsewhere (the kernel's) up to date */
    public MetricsServer(
            InetSocketAddress bindAddress,
            PrometheusMeterRegistry registry,
            BooleanSupplier ready,
            Runnable beforeScrape) {
        this(bindAddress, ListenerTransport.NIO, registry, ready, beforeScrape);
    }

    /** @param transport where the listening socket comes from (a new bound one, or a handed-over one) */
    public MetricsServer(
            InetSocketAddress bindAddress,
            ListenerTransport transport,
            PrometheusMeterRegistry registry,
            BooleanSupplier ready,
            Runnable beforeScrape) {
        this.bindAddress = bindAddress;
        this.transport = transport;
        this.registry = registry;
        this.ready = ready;
        this.beforeScrape = beforeScrape;
    }

    public void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("wg-relay-metrics", true), transport.ioHandlerFactory());
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channelFactory((io.netty.channel.ChannelFactory<ServerChannel>) transport::newChannel)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192));
                            ch.pipeline().addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES));
                            ch.pipeline().addLast(new Endpoints());
                        }
                    });
            listener = (transport.listening() ? b.register() : b.bind(bindAddress))
                    .sync()
                    .channel();
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The listening channel (its socket is what a takeover hands over); valid once started. */
    public Channel listener() {
        return listener;
    }

    /** Stops accepting in this process; a handed-over copy of the socket keeps listening elsewhere. */
    public void stopListening() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    public int boundPort() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private final class Endpoints extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "bad request\n", "text/plain");
                return;
            }
            if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
                respond(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "GET only\n", "text/plain");
                return;
            }
            switch (new QueryStringDecoder(req.uri()).path()) {
                case "/metrics":
                    beforeScrape.run();
                    respond(
                            ctx,
                            req,
                            HttpResponseStatus.OK,
                            registry.scrape(),
                            "text/plain; version=0.0.4; charset=utf-8");
                    break;
                case "/healthz":
                    respond(ctx, req, HttpResponseStatus.OK, "ok\n", "text/plain");
                    break;
                case "/readyz":
                    boolean ok = ready.getAsBoolean();
                    respond(
                            ctx,
                            req,
                            ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                            ok ? "ready\n" : "not ready\n",
                            "text/plain");
                    break;
                default:
                    respond(
                            ctx,
                            req,
                            HttpResponseStatus.NOT_FOUND,
                            "not found: /metrics, /healthz, /readyz\n",
                            "text/plain");
            }
        }

        private void respond(
                ChannelHandlerContext ctx,
                FullHttpRequest req,
                HttpResponseStatus status,
                String body,
                String contentType) {
            ByteBuf content = req.method().equals(HttpMethod.HEAD)
                    ? Unpooled.EMPTY_BUFFER
                    : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            res.headers()
                    .setInt(
                            HttpHeaderNames.CONTENT_LENGTH,
                            req.method().equals(HttpMethod.HEAD)
                                    ? body.getBytes(StandardCharsets.UTF_8).length
                                    : content.readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess();
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
