package org.wgrelay.server.handover;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The new relay's side of a takeover (SPEC D), up to holding the descriptors: connects to the
 * running relay's handover socket, says hello, and receives the offered sockets. The rest of
 * the exchange is {@link Takeover}'s.
 *
 * <p>The socket carries lines and descriptors in strict turns (each side speaks only when
 * answered), so switching the channel between reading bytes and reading descriptors never
 * meets data of the other kind.
 */
public final class HandoverClient {
    private static final Logger LOG = LoggerFactory.getLogger(HandoverClient.class);
    /** Marks the end of the connection in the inbox. */
    static final Object CLOSED = new Object();

    private HandoverClient() {}

    /**
     * Takes the sockets of the relay listening at {@code path}. Returns null, having logged
     * that this relay starts normally, when no relay answers there within {@code timeout}
     * (no socket, a stale one, or a relay that does not answer). Throws when a relay answered
     * and the exchange then failed: the old relay keeps serving.
     */
    public static Takeover takeOver(Path path, Duration timeout) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            LOG.info("takeover: no relay to take over (no handover socket at {}); starting normally", path);
            return null;
        }
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        Channel ch = HandoverConnector.connect(path, timeout, new ChannelInitializer<EpollDomainSocketChannel>() {
            @Override
            protected void initChannel(EpollDomainSocketChannel c) {
                c.pipeline()
                        .addLast(new LineBasedFrameDecoder(HandoverListener.MAX_LINE_BYTES))
                        .addLast(new StringDecoder(StandardCharsets.UTF_8))
                        .addLast(new Inbox(inbox));
            }
        });
        if (ch == null && HandoverConnector.lastFailure() == HandoverConnector.Failure.OTHER) {
            throw new HandoverException("cannot connect to the handover socket " + path
                    + " (not a stale socket: check its owner and mode)");
        }
        if (ch == null) {
            LOG.info(
                    "takeover: no relay to take over (nobody listens on the stale handover socket {}); starting normally",
                    path);
            return null;
        }
        Takeover t = new Takeover(ch, inbox, timeout);
        HandoverMessage offer;
        try {
            HandoverMessage hello = HandoverMessage.of(HandoverMessage.HELLO);
            hello.body().put("pid", ProcessHandle.current().pid());
            t.send(hello);
            offer = t.receive(timeout);
        } catch (HandoverException e) {
            t.abort(null);
            LOG.info("takeover: the relay at {} did not answer ({}); starting normally", path, e.getMessage());
            return null;
        }
        try {
            offer.expect(HandoverMessage.OFFER);
            List<SocketRole> roles = new ArrayList<>();
            offer.body().path("sockets").forEach(r -> roles.add(SocketRole.fromWire(r.asText())));
            ((EpollDomainSocketChannel) ch).config().setReadMode(DomainSocketReadMode.FILE_DESCRIPTORS);
            t.send(HandoverMessage.of(HandoverMessage.SEND));
            List<FileDescriptor> fds = new ArrayList<>();
            for (int i = 0; i < roles.size(); i++) {
                fds.add(t.receiveDescriptor(timeout));
            }
            ((EpollDomainSocketChannel) ch).config().setReadMode(DomainSocketReadMode.BYTES);
            t.received(offer.body().path("pid").asLong(-1), roles, fds);
            return t;
        } catch (RuntimeException e) {
            t.abort(e.getMessage());
            throw e instanceof HandoverException h ? h : new HandoverException(e.toString(), e);
        }
    }

    /** Queues what arrives (lines, descriptors) for the thread that runs the exchange. */
    private static final class Inbox extends SimpleChannelInboundHandler<Object> {
        private final BlockingQueue<Object> inbox;

        Inbox(BlockingQueue<Object> inbox) {
            this.inbox = inbox;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            inbox.add(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            inbox.add(CLOSED);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            inbox.add(new HandoverException("connection failed: " + cause, cause));
            ctx.close();
        }
    }

    static void write(Channel ch, HandoverMessage m) {
        ch.writeAndFlush(ByteBufUtil.writeUtf8(ch.alloc(), m.line())).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
