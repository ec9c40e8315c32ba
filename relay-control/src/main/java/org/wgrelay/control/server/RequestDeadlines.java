package org.wgrelay.control.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.wgrelay.control.protocol.ErrorCodes;

/**
 * The time limits on one control client, ahead of the line decoder so it sees raw bytes:
 * a request line must arrive complete within the line deadline of its first byte, and a
 * connection must not sit with no bytes either way past the idle timeout. Either way the
 * client gets one error line ({@code request_timeout}, {@code idle_timeout}, {@code "id":
 * null}) and the connection is closed. Slowloris clients — a byte a second, never a
 * newline — are what the line deadline answers; the idle timeout reclaims forgotten ones.
 *
 * <p>Event loop only. Its timers are the event loop's, so tests drive them with
 * {@code EmbeddedChannel.advanceTimeBy}. Removed from the pipeline when the connection
 * subscribes: a subscriber only listens.
 */
final class RequestDeadlines extends ChannelDuplexHandler {
    private final long lineDeadlineNanos;
    private final long idleNanos;
    private ScheduledFuture<?> lineTimer;
    private ScheduledFuture<?> idleTimer;
    /** The event loop's ticker time of the last byte either way. */
    private long lastActivityNanos;
    /** Bytes of a line without its newline have been read. */
    private boolean partialLine;

    RequestDeadlines(ControlLimits limits) {
        this.lineDeadlineNanos = limits.lineDeadline().toNanos();
        this.idleNanos = limits.idleTimeout().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            startIdle(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startIdle(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        if (buf.isReadable()) {
            touch(ctx);
            int lastLf = buf.forEachByteDesc(ByteProcessor.FIND_LF);
            if (lastLf < 0) {
                if (!partialLine) {
                    partialLine = true; // a line starts here
                    armLine(ctx);
                }
            } else if (lastLf < buf.writerIndex() - 1) {
                partialLine = true; // a new line started after the last newline, now
                armLine(ctx);
            } else {
                partialLine = false;
                cancel(lineTimer);
                lineTimer = null;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        touch(ctx);
        ctx.write(msg, promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel(lineTimer);
        cancel(idleTimer);
        lineTimer = null;
        idleTimer = null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handlerRemoved(ctx);
        ctx.fireChannelInactive();
    }

    private void armLine(ChannelHandlerContext ctx) {
        cancel(lineTimer);
        lineTimer = ctx.executor().schedule(() -> lineExpired(ctx), lineDeadlineNanos, TimeUnit.NANOSECONDS);
    }

    private void lineExpired(ChannelHandlerContext ctx) {
        lineTimer = null;
        if (!partialLine || !ctx.channel().isActive()) {
            return;
        }
        if (!ctx.channel().config().isAutoRead()) {
            // We stopped reading (the client's earlier requests or output are backed up), so
            // the rest of the line may be waiting in our socket buffer: not the client's delay.
            armLine(ctx);
            return;
        }
        ControlServer.closeWithError(
                ctx.channel(),
                ErrorCodes.REQUEST_TIMEOUT,
                "a request line must arrive complete within " + describe(lineDeadlineNanos) + " of its first byte");
    }

    private void startIdle(ChannelHandlerContext ctx) {
        if (idleTimer == null) {
            touch(ctx);
            idleTimer = ctx.executor().schedule(() -> idleExpired(ctx), idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Activity only moves a time stamp; the one idle timer re-arms itself for what is left. */
    private void touch(ChannelHandlerContext ctx) {
        lastActivityNanos = ctx.executor().ticker().nanoTime();
    }

    private void idleExpired(ChannelHandlerContext ctx) {
        long left = idleNanos - (ctx.executor().ticker().nanoTime() - lastActivityNanos);
        if (left > 0) {
            idleTimer = ctx.executor().schedule(() -> idleExpired(ctx), left, TimeUnit.NANOSECONDS);
            return;
        }
        idleTimer = null;
        if (ctx.channel().isActive()) {
            ControlServer.closeWithError(
                    ctx.channel(),
                    ErrorCodes.IDLE_TIMEOUT,
                    "closed after " + describe(idleNanos) + " without a request");
        }
    }

    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private static String describe(long nanos) {
        long millis = TimeUnit.NANOSECONDS.toMillis(nanos);
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }
}
