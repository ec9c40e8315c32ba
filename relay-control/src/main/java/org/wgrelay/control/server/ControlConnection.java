package org.wgrelay.control.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.control.protocol.ErrorCodes;

/**
 * One control connection: queues its framed request lines and hands them to the server's
 * lanes one at a time, so its responses leave in request order while other connections'
 * requests run beside it.
 *
 * <p>Event loop only; the lanes hand each answer back to the loop. What one client can
 * make the relay hold is bounded: at most {@link #MAX_QUEUED} requests or
 * {@link #MAX_QUEUED_CHARS} of them queued (then it stops being read), one request running,
 * and no new request started while its unread output is over the high-water mark. A
 * client that stays over the mark for the write-stall timeout is closed. A line over 64 KiB
 * is answered {@code frame_too_large} after the requests before it, and the connection
 * closed; nothing after it runs.
 */
final class ControlConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ControlConnection.class);
    static final int MAX_QUEUED = 32;
    static final int MAX_QUEUED_CHARS = 128 * 1024;

    /** A framed line: its text, or null when it was not valid UTF-8; or the oversized-line marker. */
    record Pending(String line, boolean tooLong) {}

    private final ControlServer server;
    private final long writeStallNanos;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private int queuedChars;
    private boolean running;
    private boolean subscribed;
    /** An oversized line was seen: nothing after it is queued. */
    private boolean tooLong;

    private ScheduledFuture<?> stallTimer;

    ControlConnection(ControlServer server, ControlLimits limits) {
        this.server = server;
        this.writeStallNanos = limits.writeStallTimeout().toNanos();
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
        if (tooLong || subscribed || (line != null && line.isBlank())) {
            return; // a subscribed connection only carries events; blank lines are ignored
        }
        server.requestArrived(ctx.channel());
        enqueue(ctx, new Pending(line, false));
    }

    private void enqueue(ChannelHandlerContext ctx, Pending p) {
        queue.add(p);
        queuedChars += p.line() == null ? 0 : p.line().length();
        updateAutoRead(ctx);
        runNext(ctx);
    }

    /** Starts the next queued request unless one is running or the client's output is backed up. */
    private void runNext(ChannelHandlerContext ctx) {
        if (running
                || queue.isEmpty()
                || !ctx.channel().isActive()
                || !ctx.channel().isWritable()) {
            return;
        }
        Pending p = queue.poll();
        queuedChars -= p.line() == null ? 0 : p.line().length();
        updateAutoRead(ctx);
        running = true;
        if (p.tooLong()) {
            ControlServer.closeWithError(
                    ctx.channel(),
                    ErrorCodes.FRAME_TOO_LARGE,
                    "a request line may be at most " + ControlServer.MAX_LINE_BYTES + " bytes");
            return;
        }
        try {
            server.dispatch(p.line(), answer -> {
                try {
                    ctx.executor().execute(() -> finish(ctx, answer));
                } catch (RejectedExecutionException shuttingDown) {
                    // the loop is gone and the connection with it
                }
            });
        } catch (RejectedExecutionException e) {
            ctx.close(); // the lanes are full (connections closed with requests queued) or shut down
        }
    }

    /** On the loop: writes one answer and starts the next request. */
    private void finish(ChannelHandlerContext ctx, VerbDispatcher.Answer answer) {
        running = false;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (answer.subscribe()) {
            subscribed = true;
            queue.clear();
            queuedChars = 0;
            if (ctx.pipeline().get(RequestDeadlines.class) != null) {
                ctx.pipeline().remove(RequestDeadlines.class);
            }
            server.subscribe(ctx.channel());
        }
        ctx.writeAndFlush(ByteBufUtil.writeUtf8(ctx.alloc(), answer.line() + "\n"));
        updateAutoRead(ctx);
        runNext(ctx);
    }

    private void updateAutoRead(ChannelHandlerContext ctx) {
        ctx.channel()
                .config()
                .setAutoRead(!tooLong
                        && ctx.channel().isWritable()
                        && queue.size() < MAX_QUEUED
                        && queuedChars < MAX_QUEUED_CHARS);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            if (stallTimer != null) {
                stallTimer.cancel(false);
                stallTimer = null;
            }
            runNext(ctx);
        } else if (stallTimer == null && !subscribed) {
            stallTimer = ctx.executor().schedule(() -> stalled(ctx), writeStallNanos, TimeUnit.NANOSECONDS);
        }
        updateAutoRead(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    private void stalled(ChannelHandlerContext ctx) {
        stallTimer = null;
        if (!ctx.channel().isWritable() && ctx.channel().isActive()) {
            LOG.info(
                    "control: closing {}: it has not read its responses for {} ms",
                    ctx.channel().remoteAddress(),
                    TimeUnit.NANOSECONDS.toMillis(writeStallNanos));
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (stallTimer != null) {
            stallTimer.cancel(false);
            stallTimer = null;
        }
        queue.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            if (!tooLong && !subscribed) {
                enqueue(ctx, new Pending(null, true));
                tooLong = true;
                updateAutoRead(ctx);
            }
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
}
