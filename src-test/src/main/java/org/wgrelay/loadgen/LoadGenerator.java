// Load generator and sink for WireGuard-type-4-shaped UDP traffic (main).
package org.wgrelay.loadgen;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Java counterpart of {@code shared/bench/udpblast}: sends
 * WireGuard-type-4-shaped datagrams ({@link Payload}) from several source
 * endpoints, counts what arrives, and prints one JSON line.
 *
 * <pre>
 * LoadGenerator [options]
 *   --flow LOCAL_IP:PORT,REMOTE_IP:PORT[,N]  N endpoints on PORT..PORT+N-1, each a
 *                        connected socket that sends to REMOTE and counts what comes
 *                        back (a WireGuard peer sends and receives on one socket)
 *   --sink IP:PORT[,N]   receive-only sockets
 *   --duration S         send time in seconds (default 5)
 *   --rate PPS           total rate over this process's flows; 0 = flat out (default)
 *   --size B             datagram size, 32..2048 (default 128)
 *   --batch N            datagrams per flush (= per sendmmsg); with --rate also the
 *                        burst cap (default 64)
 *   --id0 N              flow id of the first flow (default 0); flow ids must be
 *                        unique over all senders feeding one sink
 *   --idle-ms MS         stop receiving after this much silence once sending is over
 *                        (default 300); sink only: after traffic, or --duration
 *   --rcvbuf B           SO_RCVBUF (default 16 MiB, capped by net.core.rmem_max)
 *   --warmup S           first send S seconds to a loopback sink of our own, so the
 *                        measured run does not start in the interpreter
 *   --ready-file F       create F once the sockets are bound and warmed up ...
 *   --go-file F          ... and start only once F exists (a barrier across processes)
 * LoadGenerator merge FILE...   one result line from the result lines of several runs
 * </pre>
 *
 * <p>One event loop carries every socket of the process, sending and
 * receiving. A run across namespaces is one process per namespace, started
 * together through the ready/go files and merged afterwards; loss is then
 * 1 - received / sent over all of them, exactly.
 */
public final class LoadGenerator {
    private static final int DEFAULT_RCVBUF = 16 << 20;

    private final List<InetSocketAddress[]> flowSpecs = new ArrayList<>();
    private final List<InetSocketAddress> sinkSpecs = new ArrayList<>();
    private double durationS = 5;
    private long rate;
    private int size = 128;
    private int batch = 64;
    private int id0;
    private int idleMs = 300;
    private int rcvbuf = DEFAULT_RCVBUF;
    private double warmupS;
    private Path readyFile;
    private Path goFile;

    private LoadGenerator() {}

    public static void main(String[] args) throws Exception {
        // stdout carries the result line only: Netty would otherwise log its
        // DEBUG start-up lines through whatever SLF4J binding is on the class
        // path (logback without a configuration prints them to stdout).
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        if (args.length > 0 && args[0].equals("merge")) {
            List<Result> parts = new ArrayList<>();
            for (int i = 1; i < args.length; i++) {
                parts.add(Result.parse(lastLine(Path.of(args[i]))));
            }
            System.out.println(Result.merge(parts).toJson(false));
            return;
        }
        LoadGenerator g = new LoadGenerator();
        try {
            g.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("loadgen: " + e.getMessage());
            System.exit(2);
        }
        if (!Epoll.isAvailable()) {
            System.err.println("loadgen: native epoll unavailable: " + Epoll.unavailabilityCause());
            System.exit(1);
        }
        System.out.println(g.run().toJson(true));
        System.exit(0); // do not wait for the event loop's quiet period
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String opt = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + opt);
            }
            String v = args[++i];
            switch (opt) {
                case "--flow" -> {
                    String[] f = v.split(",");
                    if (f.length < 2) {
                        throw new IllegalArgumentException("--flow LOCAL_IP:PORT,REMOTE_IP:PORT[,N]");
                    }
                    InetSocketAddress local = endpoint(f[0]);
                    InetSocketAddress remote = endpoint(f[1]);
                    int n = f.length > 2 ? Integer.parseInt(f[2]) : 1;
                    for (int k = 0; k < n; k++) {
                        flowSpecs.add(new InetSocketAddress[] {
                            new InetSocketAddress(local.getAddress(), local.getPort() + k), remote
                        });
                    }
                }
                case "--sink" -> {
                    String[] f = v.split(",");
                    InetSocketAddress local = endpoint(f[0]);
                    int n = f.length > 1 ? Integer.parseInt(f[1]) : 1;
                    for (int k = 0; k < n; k++) {
                        sinkSpecs.add(new InetSocketAddress(local.getAddress(), local.getPort() + k));
                    }
                }
                case "--duration" -> durationS = Double.parseDouble(v);
                case "--rate" -> rate = Long.parseLong(v);
                case "--size" -> size = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--id0" -> id0 = Integer.parseInt(v);
                case "--idle-ms" -> idleMs = Integer.parseInt(v);
                case "--rcvbuf" -> rcvbuf = Integer.parseInt(v);
                case "--warmup" -> warmupS = Double.parseDouble(v);
                case "--ready-file" -> readyFile = Path.of(v);
                case "--go-file" -> goFile = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + opt);
            }
        }
        if (flowSpecs.isEmpty() && sinkSpecs.isEmpty()) {
            throw new IllegalArgumentException("need --flow and/or --sink");
        }
        if (size < Payload.MIN_SIZE || size > Payload.MAX_SIZE) {
            throw new IllegalArgumentException("--size must be within 32..2048");
        }
        if (batch < 1 || batch > 1024) {
            throw new IllegalArgumentException("--batch must be within 1..1024");
        }
        if (id0 < 0 || id0 + flowSpecs.size() > SinkStats.MAX_FLOW_ID) {
            throw new IllegalArgumentException("flow ids must stay below " + SinkStats.MAX_FLOW_ID);
        }
    }

    static InetSocketAddress endpoint(String s) {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("bad endpoint " + s + " (want IP:PORT)");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            // A literal only: no name resolution in a namespace without DNS.
            return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(s.substring(colon + 1)));
        } catch (IOException | NumberFormatException e) {
            throw new IllegalArgumentException("bad endpoint " + s + " (want IP:PORT)");
        }
    }

    private Result run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoop loop = group.next();
        try {
            if (warmupS > 0) {
                warmUp(loop);
            }
            SinkStats stats = new SinkStats();
            SinkHandler handler = new SinkHandler(stats);
            Bootstrap b = bootstrap(loop, handler, rcvbuf);
            List<Channel> flows = new ArrayList<>();
            for (InetSocketAddress[] f : flowSpecs) {
                flows.add(b.connect(f[1], f[0]).sync().channel());
            }
            for (InetSocketAddress s : sinkSpecs) {
                b.bind(s).sync();
            }
            barrier(readyFile, goFile);

            long cpu0 = processCpuNanos();
            Sender sender = null;
            if (!flows.isEmpty()) {
                sender = new Sender(loop, flows, id0, size, batch, rate, (long) (durationS * 1e9));
                sender.start().sync();
            }
            long txDone = System.nanoTime();
            waitForQuiet(loop, stats, txDone, sender == null, idleMs, durationS);
            long cpu1 = processCpuNanos();

            Sender s = sender;
            return loop.submit(() -> result(stats, handler, s, (cpu1 - cpu0) / 1e9))
                    .get();
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
    }

    static Bootstrap bootstrap(EventLoop loop, SinkHandler handler, int rcvbuf) {
        return new Bootstrap()
                .group(loop)
                .channel(EpollDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, rcvbuf)
                .option(ChannelOption.SO_SNDBUF, 4 << 20)
                // A receive buffer that holds a whole batch and a maximum
                // datagram size: together they make the transport use recvmmsg.
                .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, Payload.MAX_SIZE)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(Payload.MAX_SIZE * 64))
                .handler(handler);
    }

    /** JIT warm-up on loopback, same code paths, separate counters. */
    private void warmUp(EventLoop loop) throws Exception {
        SinkStats stats = new SinkStats();
        Bootstrap b = bootstrap(loop, new SinkHandler(stats), rcvbuf);
        InetAddress lo = InetAddress.getLoopbackAddress();
        Channel sink = b.bind(new InetSocketAddress(lo, 0)).sync().channel();
        Channel flow = b.connect(sink.localAddress(), new InetSocketAddress(lo, 0))
                .sync()
                .channel();
        new Sender(loop, List.of(flow), 0, size, batch, 0, (long) (warmupS * 1e9))
                .start()
                .sync();
        Thread.sleep(100);
        flow.close().sync();
        sink.close().sync();
    }

    static void barrier(Path readyFile, Path goFile) throws IOException, InterruptedException {
        if (readyFile != null) {
            Files.writeString(readyFile, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        }
        if (goFile != null) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(goFile)) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("no go file " + goFile + " after 120 s");
                }
                Thread.sleep(1);
            }
        }
    }

    /**
     * Waits until nothing has arrived for idle-ms after sending ended (or,
     * sink only, after the first traffic; or --duration with none at all).
     */
    static void waitForQuiet(
            EventLoop loop, SinkStats stats, long txDone, boolean sinkOnly, int idleMs, double durationS)
            throws Exception {
        long idle = TimeUnit.MILLISECONDS.toNanos(idleMs);
        long start = System.nanoTime();
        while (true) {
            Thread.sleep(20);
            long last = loop.submit(() -> stats.lastRxNanos).get();
            long now = System.nanoTime();
            if (sinkOnly) {
                if (last == 0 ? now - start > durationS * 1e9 : now - last > idle) {
                    return;
                }
            } else if (now - Math.max(last, txDone) > idle) {
                return;
            }
        }
    }

    private Result result(SinkStats stats, SinkHandler handler, Sender sender, double cpuS) {
        Result r = new Result();
        r.flows = flowSpecs.size();
        r.size = size;
        r.ratePps = rate;
        if (sender != null) {
            r.durationS = sender.elapsedSeconds();
            r.sent = sender.sent() - handler.sendErrors;
            r.unwritable = sender.unwritable();
            r.skipped = sender.skipped();
        }
        r.sendErrors = handler.sendErrors;
        r.received = stats.received;
        r.bytes = stats.bytes;
        r.gapLost = stats.gapLost();
        r.reordered = stats.reorderedTotal();
        r.bad = stats.bad;
        r.icmpErrors = stats.icmpErrors;
        r.flowsSeen = stats.flowsSeen();
        r.firstRxNanos = stats.firstRxNanos;
        r.lastRxNanos = stats.lastRxNanos;
        r.cpuS = cpuS;
        r.latency.addAll(stats.latency);
        return r;
    }

    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static String lastLine(Path p) throws IOException {
        List<String> lines = Files.readAllLines(p);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("{")) {
                return lines.get(i);
            }
        }
        throw new IOException("no result line in " + p);
    }
}
