package org.wgrelay.server.pipeline;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.unix.Errors;
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
 * <p>A send failing with {@code EINVAL} or {@code EIO} while the worker sends UDP GSO groups
 * turns grouping off for that worker, logged once: those are the kernel's answers to a GSO
 * send it cannot take (a segment over the route's MTU, a device without checksum offload).
 * The failed group's datagrams are lost once; from then on every datagram is sent alone.
 *
 * <p>Also the pipeline's tail guard: anything that reaches it unhandled is released.
 */
public final class IoErrorLog extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(IoErrorLog.class);
    static final long LOG_INTERVAL_MILLIS = 10_000;
    /** Linux's errno values (the same on every architecture the relay's natives exist for). */
    private static final int EIO = 5;

    private static final int EINVAL = 22;

    private final WorkerState worker;
    private long nextLogAtMillis;
    private long suppressed;

    public IoErrorLog(WorkerState worker) {
        this.worker = worker;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        worker.counters().increment(worker.stripe(), RelayCounter.TX_ERRORS);
        if (worker.segments().enabled() && refusesSegments(cause)) {
            worker.segments().disable();
            LOG.warn(
                    "udp gso off on worker {}: a send failed with {}; sending every datagram alone from now on",
                    worker.stripe(),
                    cause.toString());
        }
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

    private static boolean refusesSegments(Throwable cause) {
        if (cause instanceof Errors.NativeIoException e) {
            int errno = -e.expectedErr();
            return errno == EINVAL || errno == EIO;
        }
        return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }
}
