package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.counters.RelayCounter;

/**
 * Last pipeline stage: counts I/O errors (failed sends surface here, since the
 * forwarder writes with a void promise) as {@code tx_errors} and logs them at most once
 * per {@link #LOG_INTERVAL_MILLIS} per worker, with how many were suppressed — a flood
 * of send failures must not become a flood of log lines.
 *
 * <p>Also the pipeline's tail guard: anything that reaches it unhandled is released.
 */
public final class IoErrorLog extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(IoErrorLog.class);
    static final long LOG_INTERVAL_MILLIS = 10_000;

    private final WorkerState worker;
    private long nextLogAtMillis;
    private long suppressed;

    public IoErrorLog(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        worker.counters().increment(worker.stripe(), RelayCounter.TX_ERRORS);
        long now = worker.nowMillis();
        if (now >= nextLogAtMillis) {
            LOG.warn(
                    "udp i/o error on worker {}: {} ({} similar errors suppressed)",
                    worker.stripe(),
                    cause.toString(),
                    suppressed);
            suppressed = 0;
            nextLogAtMillis = now + LOG_INTERVAL_MILLIS;
        } else {
            suppressed++;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }
}
