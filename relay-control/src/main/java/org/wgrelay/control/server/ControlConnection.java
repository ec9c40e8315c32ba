package org.wgrelay.control.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.protocol.ControlRequest;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbRegistry;

/**
 * One control connection: takes framed lines, runs each request on the control
 * executor (so responses keep request order), and writes the response line.
 *
 * <p>Hostile clients: a line over 64 KiB is answered {@code frame_too_large} and the
 * connection closed; anything else malformed is {@code bad_request} and the connection
 * stays usable. A client that sends faster than it reads stops being read (more than
 * {@link #MAX_PENDING} requests in flight, or its output over the high-water mark), so
 * it cannot queue unbounded work or output in the relay.
 */
final class ControlConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ControlConnection.class);
    static final int MAX_PENDING = 32;

    private final ControlServer server;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile boolean subscribed;
    /** Set once the connection is to be closed (an oversized line): nothing after it runs. */
    private volatile boolean closing;

    ControlConnection(ControlServer server) {
        this.server = server;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        String line;
        try {
            line = decodeUtf8(frame);
        } finally {
            frame.release();
        }
        if (closing || subscribed || (line != null && line.isBlank())) {
            return; // a subscribed connection only carries events; blank lines are ignored
        }
        submit(
                ctx,
                () -> {
                    if (line == null) {
                        return ControlJson.errorLine(
                                NullNode.getInstance(), ErrorCodes.BAD_REQUEST, "the line is not valid UTF-8");
                    }
                    return answer(ctx, line);
                },
                false);
    }

    private String answer(ChannelHandlerContext ctx, String line) {
        ControlRequest request;
        try {
            request = ControlJson.parseRequest(line);
        } catch (ControlException e) {
            return ControlJson.errorLine(ControlJson.idOf(line), e.code(), e.getMessage());
        }
        JsonNode id = request.id();
        VerbRegistry.Binding binding = server.registry().find(request.verb());
        try {
            if (binding == null) {
                throw new ControlException(
                        ErrorCodes.UNKNOWN_VERB, "no verb '" + printable(request.verb()) + "'; 'help' lists them");
            }
            if (binding.spec().role() == Role.OPERATOR && !server.authorised(request.token())) {
                throw new ControlException(ErrorCodes.FORBIDDEN, "'" + request.verb() + "' needs the operator token");
            }
            List<String> args = VerbRegistry.checkArgs(binding.spec(), request.args());
            if (binding.spec() == BuiltinVerbs.SUBSCRIBE
                    || binding.spec().verb().equals(BuiltinVerbs.SUBSCRIBE.verb())) {
                subscribed = true;
                server.subscribe(ctx.channel());
                return ControlJson.okLine(id, java.util.Map.of("subscribed", true));
            }
            return ControlJson.okLine(id, binding.handler().handle(args));
        } catch (ControlException e) {
            return ControlJson.errorLine(id, e.code(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("control verb '{}' failed", request.verb(), e);
            return ControlJson.errorLine(id, ErrorCodes.INTERNAL, "the relay failed to carry out the request: " + e);
        }
    }

    /** Runs {@code work} on the control executor and writes its line; optionally closes after. */
    private void submit(ChannelHandlerContext ctx, java.util.concurrent.Callable<String> work, boolean closeAfter) {
        if (pending.incrementAndGet() >= MAX_PENDING) {
            ctx.channel().config().setAutoRead(false);
        }
        try {
            server.executor().execute(() -> {
                String line;
                try {
                    line = work.call();
                } catch (Exception e) {
                    line = ControlJson.errorLine(NullNode.getInstance(), ErrorCodes.INTERNAL, e.toString());
                }
                var future = ctx.writeAndFlush(Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8));
                if (closeAfter) {
                    future.addListener(f -> ctx.close());
                }
                if (pending.decrementAndGet() < MAX_PENDING / 2 && ctx.channel().isWritable() && !closing) {
                    ctx.channel().config().setAutoRead(true);
                }
            });
        } catch (RejectedExecutionException e) {
            ctx.close(); // shutting down
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Stop reading requests from a client that does not read its responses.
        ctx.channel().config().setAutoRead(ctx.channel().isWritable() && pending.get() < MAX_PENDING && !closing);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            if (closing) {
                return;
            }
            closing = true;
            ctx.channel().config().setAutoRead(false);
            submit(
                    ctx,
                    () -> ControlJson.errorLine(
                            NullNode.getInstance(),
                            ErrorCodes.FRAME_TOO_LARGE,
                            "a request line may be at most " + ControlServer.MAX_LINE_BYTES + " bytes"),
                    true);
            return;
        }
        LOG.debug("control connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    private static String decodeUtf8(ByteBuf frame) {
        try {
            ByteBuffer nio = frame.nioBuffer();
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(nio)
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
