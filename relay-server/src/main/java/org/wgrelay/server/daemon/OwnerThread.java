package org.wgrelay.server.daemon;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The relay's one owner thread, {@code wg-relay-owner}: roaming's follow-up work (indexing
 * and logging candidates, counting and striking failed ones, blocklist escalations,
 * commits to the roster, events, the XDP sync's notice) and the once-a-second sweeps.
 *
 * <p>Workers hand it tasks without blocking or locking: it is a Netty event loop, whose
 * task queue is a lock-free multi-producer queue, bounded at {@link #QUEUE_BOUND} tasks.
 * A task offered to a full queue is refused at once ({@code RejectedExecutionException})
 * and counted ({@link #rejections()}, exported as {@code wgrelay_owner_queue_rejections_total}):
 * roaming's sweep finds every candidate whose follow-up was refused and does it within a
 * second, and a refused roster change answers the verb with {@code internal}, nothing
 * changed. It also applies every roster change, the verbs' included: the roster's one
 * writer.
 */
final class OwnerThread implements AutoCloseable {
    /** Far above what roaming produces (a few tasks per candidate); a flood beyond it is dropped. */
    static final int QUEUE_BOUND = 16_384;

    private final LongAdder rejected = new LongAdder();
    private final SingleThreadIoEventLoop loop = new SingleThreadIoEventLoop(
            null,
            new DefaultThreadFactory("wg-relay-owner", true),
            NioIoHandler.newFactory(),
            QUEUE_BOUND,
            (task, executor) -> {
                rejected.increment();
                throw new RejectedExecutionException("the owner thread's queue is full");
            },
            TimeUnit.MILLISECONDS.toNanos(100));

    /**
     * Epoll where the workers run (waking a sleeping owner is an eventfd write); NIO's
     * wake-up takes a JDK monitor, which a worker must not, so it is only the fallback.
     */
    private static IoHandlerFactory ioHandler() {
        return Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    EventExecutor executor() {
        return loop;
    }

    /** Tasks dropped because the queue was full, since start. */
    long rejections() {
        return rejected.sum();
    }

    @Override
    public void close() {
        loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
