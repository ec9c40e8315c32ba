package org.wgrelay.server.daemon;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Promise;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.pipeline.DropUnknownSources;
import org.wgrelay.server.pipeline.RelayChannelInitializer;
import org.wgrelay.server.pipeline.SegmentBatcher;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.roaming.RoamingEngine;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * The UDP data plane: {@code workers} epoll event loops, each owning one datagram
 * socket bound to the same address and port with {@code SO_REUSEPORT}, so the kernel
 * spreads flows across loops and no two loops share a socket or a lock.
 *
 * <p>Reads are batched with {@code recvmmsg} (a receive buffer sized for
 * {@link #DATAGRAMS_PER_READ} datagrams of up to {@link #MAX_DATAGRAM_BYTES}); writes
 * are flushed once per read batch and leave with {@code sendmmsg}, those of a batch to one
 * recipient as UDP GSO groups unless {@code udpGso} is off ({@link SegmentBatcher}).
 */
public final class RelayServer implements AutoCloseable {
    /**
     * Largest datagram read whole. WireGuard's default MTU of 1420 makes 1452-byte
     * datagrams; this also covers 9000-byte jumbo-frame tunnels. A longer datagram
     * would be truncated by the kernel, so it could not be forwarded byte for byte.
     */
    public static final int MAX_DATAGRAM_BYTES = 9216;

    static final int DATAGRAMS_PER_READ = 32;
    private static final int SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

    private final InetSocketAddress bindAddress;
    private final int workers;
    private final ForwardingTableHolder tables;
    private final Blocklist blocklist;
    private final RelayCounters counters;
    private final RoamingEngine roaming;
    private final boolean hubLinks;
    private final boolean traceForwardHashes;
    private final boolean udpGso;
    private final LongSupplier clockMillis;

    private final List<Channel> channels = new ArrayList<>();
    private final List<WorkerState> workerStates = new ArrayList<>();
    private EventLoopGroup group;

    public RelayServer(
            InetSocketAddress bindAddress,
            int workers,
            ForwardingTableHolder tables,
            Blocklist blocklist,
            RelayCounters counters,
            RoamingEngine roaming,
            boolean hubLinks,
            boolean traceForwardHashes,
            boolean udpGso,
            LongSupplier clockMillis) {
        this.bindAddress = bindAddress;
        this.workers = workers;
        this.tables = tables;
        this.blocklist = blocklist;
        this.counters = counters;
        this.roaming = roaming;
        this.hubLinks = hubLinks;
        this.traceForwardHashes = traceForwardHashes;
        this.udpGso = udpGso;
        this.clockMillis = clockMillis;
    }

    /** Binds every worker's socket; throws if any bind fails (and closes what it opened). */
    public void start() throws InterruptedException {
        start(List.of());
    }

    /**
     * Starts one worker on each of {@code inheritedFds}, datagram sockets a running relay
     * handed over (SPEC D): already bound, with their receive queues, so nothing is bound and
     * no datagram queued in them is lost. Empty: binds {@code workers} new sockets instead.
     * The socket options are set again (they are the socket's, so this changes nothing); the
     * channel's own settings (batch reads, buffers) are this process's.
     */
    public void start(List<Integer> inheritedFds) throws InterruptedException {
        if (!inheritedFds.isEmpty() && inheritedFds.size() != workers) {
            throw new IllegalArgumentException(
                    inheritedFds.size() + " handed-over sockets for " + workers + " workers");
        }
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("the epoll transport is not available: " + Epoll.unavailabilityCause());
        }
        // The trace's egress line is written for the one datagram in flight as it is handed to the
        // socket; a GSO group is handed over later, at the end of the batch, so tracing sends alone.
        int gsoSegmentLimit = udpGso && !traceForwardHashes ? GsoSegmentLimit.fromInterfaces() : 0;
        group = new MultiThreadIoEventLoopGroup(
                workers, new DefaultThreadFactory("wg-relay-worker", true), EpollIoHandler.newFactory());
        SocketProtocolFamily family = bindAddress.getAddress() instanceof Inet4Address
                ? SocketProtocolFamily.INET
                : SocketProtocolFamily.INET6;
        try {
            for (int i = 0; i < workers; i++) {
                WorkerState worker = new WorkerState(i, counters, clockMillis);
                if (gsoSegmentLimit > 0) {
                    worker.segments().enable(gsoSegmentLimit);
                }
                Integer inherited = inheritedFds.isEmpty() ? null : inheritedFds.get(i);
                Bootstrap b = new Bootstrap()
                        .group(group)
                        .channelFactory(() -> inherited == null
                                ? new EpollDatagramChannel(family)
                                : new EpollDatagramChannel(inherited))
                        .option(EpollChannelOption.SO_REUSEPORT, true)
                        // Pooled: the per-datagram slice of the recvmmsg buffer then comes from
                        // Netty's recycler (measured 162 instead of 185 B allocated per packet).
                        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                        .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER_BYTES)
                        .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER_BYTES)
                        .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_DATAGRAM_BYTES)
                        .option(
                                ChannelOption.RCVBUF_ALLOCATOR,
                                new FixedRecvByteBufAllocator(MAX_DATAGRAM_BYTES * DATAGRAMS_PER_READ))
                        .option(
                                ChannelOption.WRITE_BUFFER_WATER_MARK,
                                new WriteBufferWaterMark(2 * 1024 * 1024, 4 * 1024 * 1024))
                        .handler(new RelayChannelInitializer(
                                worker,
                                tables,
                                blocklist,
                                roaming == null ? new DropUnknownSources() : roaming,
                                roaming,
                                hubLinks,
                                traceForwardHashes));
                // Each bind (or register) takes the next event loop of the group: one socket per loop.
                Channel ch = (inherited == null ? b.bind(bindAddress) : b.register())
                        .sync()
                        .channel();
                channels.add(ch);
                workerStates.add(worker);
            }
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The port actually bound (useful when started with port 0 in tests). */
    public int boundPort() {
        return ((InetSocketAddress) channels.get(0).localAddress()).getPort();
    }

    /** The workers' socket descriptors, in worker order: what a takeover hands over. */
    public List<Integer> socketFds() {
        List<Integer> fds = new ArrayList<>();
        for (Channel ch : channels) {
            fds.add(((EpollDatagramChannel) ch).fd().intValue());
        }
        return fds;
    }

    /**
     * Stops reading on every socket and returns once each worker's queued sends have left
     * (or {@code timeoutMillis} passed). Datagrams still in the sockets' queues stay there for
     * the process that took the sockets over. Any thread but a worker's.
     */
    public void stopReading(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        List<Promise<Void>> drained = new ArrayList<>();
        for (Channel ch : channels) {
            Promise<Void> done = ch.eventLoop().newPromise();
            drained.add(done);
            // On the loop: no read batch is in progress, and none starts after this.
            ch.eventLoop().execute(() -> {
                ch.config().setAutoRead(false);
                ch.flush();
                awaitDrained(ch, done);
            });
        }
        for (Promise<Void> done : drained) {
            done.await(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
    }

    /** Reads again after {@link #stopReading} (a takeover that broke off after it). */
    public void resumeReading() {
        for (Channel ch : channels) {
            ch.eventLoop().execute(() -> ch.config().setAutoRead(true));
        }
    }

    /** On {@code ch}'s loop: completes {@code done} once the channel has no send queued. */
    private static void awaitDrained(Channel ch, Promise<Void> done) {
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        if (!ch.isOpen() || out == null || out.totalPendingWriteBytes() == 0) {
            done.trySuccess(null);
        } else {
            ch.eventLoop().schedule(() -> awaitDrained(ch, done), 1, TimeUnit.MILLISECONDS);
        }
    }

    public int workers() {
        return workers;
    }

    /**
     * The merged per-source drop table. Each worker's table is read on its own event
     * loop (its only reader and writer), so this takes no lock on the data path.
     */
    public List<DropSourceTable.Row> dropSources() throws InterruptedException, ExecutionException, TimeoutException {
        List<List<DropSourceTable.Row>> perWorker = new ArrayList<>();
        for (int i = 0; i < channels.size(); i++) {
            WorkerState worker = workerStates.get(i);
            perWorker.add(channels.get(i)
                    .eventLoop()
                    .submit(() -> worker.dropSources().snapshot())
                    .get(5, TimeUnit.SECONDS));
        }
        return DropSourceTable.merge(perWorker);
    }

    /** Closes the sockets and stops the event loops, letting queued sends finish. */
    @Override
    public void close() {
        for (Channel ch : channels) {
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        channels.clear();
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            group = null;
        }
    }
}
