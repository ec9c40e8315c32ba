// Load generator: a hub with many spokes through the relay (main).
package org.wgrelay.loadgen;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Hub-and-spokes traffic through wg-relay (SPEC "Hub links"), from one process
 * that owns the hub's socket and every spoke's.
 *
 * <pre>
 * HubBench register --control HOST:PORT [--token-file F] --local IP:PORT0 --spokes N [--spoke-ips IP:PORT]
 *     wg peer add / pubkey for "hub" (IP:PORT0) and spoke0..spokeN-1 (IP:PORT0+1+k, or
 *     with --spoke-ips IP+k:PORT), then wg link add hub spokeK; prints {"verbs":..,"seconds":..}
 * HubBench run --relay IP:PORT --local IP:PORT0 --spokes N [--spoke-ips IP:PORT] [options]
 *   --spoke-ips IP:PORT  each spoke its own address, IP+k (the namespace must own them,
 *                        e.g. "ip route add local 10.77.128.0/17 dev lo"); after priming,
 *                        the spokes' sockets close and one socket on PORT receives for all
 *                        of them (hub direction only)
 *   --direction hub|both  hub: the hub's transport data to the spokes, the relay
 *                        routing each datagram by its receiver index (default);
 *                        both: and the spokes' to the hub, half the rate each way
 *   --duration S --rate PPS --size B --batch N --idle-ms MS --rcvbuf B --warmup S
 *   --ready-file F --go-file F           as LoadGenerator
 *   --prime-timeout S    give up priming after S seconds (default 20)
 * </pre>
 *
 * <p>Run binds the hub and the N spokes at their registered endpoints, each a
 * socket connected to the relay, then primes the relay's session index the way
 * WireGuard would: every spoke sends an initiation (sender index {@link
 * SessionIds#spoke}, MAC1 for the hub's key), which the relay forwards to the
 * hub; the hub answers each (sender index {@link SessionIds#hub}, receiver index
 * the spoke's, MAC1 for that spoke's key), which the relay routes by index to
 * the spoke. Both steps are resent until every message arrived, so a failed
 * prime is an error, not a silent loss. Then transport data flows: from the
 * hub's one socket to the spokes, datagram by datagram in turn (consecutive
 * datagrams name different sessions), and with {@code both} from the spokes'
 * sockets in turn to the hub. With one spoke this is an ordinary linked pair,
 * the baseline. Prints LoadGenerator's JSON result line, plus the priming time.
 */
public final class HubBench {
    private InetSocketAddress relay;
    private InetSocketAddress control;
    private Path tokenFile;
    private InetSocketAddress local;
    private InetSocketAddress spokeIps;
    private int spokes = 1;
    private boolean both;
    private double durationS = 5;
    private long rate;
    private int size = 128;
    private int batch = 64;
    private int idleMs = 300;
    private int rcvbuf = 16 << 20;
    private double warmupS;
    private double primeTimeoutS = 20;
    private Path readyFile;
    private Path goFile;

    private HubBench() {}

    public static void main(String[] args) throws Exception {
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        HubBench h = new HubBench();
        String mode = args.length > 0 ? args[0] : "";
        try {
            h.parse(args);
            if (mode.equals("register")) {
                System.out.println(h.register());
            } else if (mode.equals("run")) {
                if (!Epoll.isAvailable()) {
                    throw new IOException("native epoll unavailable: " + Epoll.unavailabilityCause());
                }
                System.out.println(h.run());
            } else {
                throw new IllegalArgumentException("usage: HubBench register|run [options]");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("hubbench: " + e.getMessage());
            System.exit(2);
        } catch (IOException e) {
            System.err.println("hubbench: " + e.getMessage());
            System.exit(1);
        }
        System.exit(0); // do not wait for the event loop's quiet period
    }

    private void parse(String[] args) {
        for (int i = 1; i < args.length; i++) {
            String opt = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + opt);
            }
            String v = args[++i];
            switch (opt) {
                case "--relay" -> relay = LoadGenerator.endpoint(v);
                case "--control" -> control = LoadGenerator.endpoint(v);
                case "--token-file" -> tokenFile = Path.of(v);
                case "--local" -> local = LoadGenerator.endpoint(v);
                case "--spoke-ips" -> spokeIps = LoadGenerator.endpoint(v);
                case "--spokes" -> spokes = Integer.parseInt(v);
                case "--direction" ->
                    both = switch (v) {
                        case "hub" -> false;
                        case "both" -> true;
                        default -> throw new IllegalArgumentException("--direction hub|both");
                    };
                case "--duration" -> durationS = Double.parseDouble(v);
                case "--rate" -> rate = Long.parseLong(v);
                case "--size" -> size = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--idle-ms" -> idleMs = Integer.parseInt(v);
                case "--rcvbuf" -> rcvbuf = Integer.parseInt(v);
                case "--warmup" -> warmupS = Double.parseDouble(v);
                case "--prime-timeout" -> primeTimeoutS = Double.parseDouble(v);
                case "--ready-file" -> readyFile = Path.of(v);
                case "--go-file" -> goFile = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + opt);
            }
        }
        if (local == null) {
            throw new IllegalArgumentException("need --local IP:PORT0");
        }
        if (spokeIps != null && both) {
            throw new IllegalArgumentException("--spoke-ips receives on one socket: --direction hub only");
        }
        if (size < Payload.MIN_SIZE || size > Payload.MAX_SIZE) {
            throw new IllegalArgumentException("--size must be within 32..2048");
        }
        if (batch < 1 || batch > 1024) {
            throw new IllegalArgumentException("--batch must be within 1..1024");
        }
    }

    private HubLayout layout() {
        return new HubLayout(local.getAddress(), local.getPort(), spokes, spokeIps);
    }

    private String register() throws IOException {
        if (control == null) {
            throw new IllegalArgumentException("need --control HOST:PORT");
        }
        String token = tokenFile == null ? null : Files.readString(tokenFile).strip();
        long t0 = System.nanoTime();
        int verbs = new HubRegistration(control, token).register(layout());
        return String.format("{\"verbs\":%d,\"seconds\":%.3f}", verbs, (System.nanoTime() - t0) / 1e9);
    }

    private String run() throws Exception {
        if (relay == null) {
            throw new IllegalArgumentException("need --relay IP:PORT");
        }
        HubLayout layout = layout();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoop loop = group.next();
        try {
            if (warmupS > 0) {
                warmUp(loop);
            }
            SinkStats stats = new SinkStats();
            SinkHandler handler = new SinkHandler(stats, true);
            Bootstrap b = LoadGenerator.bootstrap(loop, handler, rcvbuf);
            Channel hub = b.connect(relay, layout.hub()).sync().channel();
            List<Channel> spokeChannels = new ArrayList<>(spokes);
            for (int k = 0; k < spokes; k++) {
                spokeChannels.add(b.connect(relay, layout.spoke(k)).sync().channel());
            }
            long p0 = System.nanoTime();
            prime(loop, stats, hub, spokeChannels);
            double primeS = (System.nanoTime() - p0) / 1e9;
            if (spokeIps != null) {
                // One receiving socket for every spoke address, as the far side of a
                // real hub's spokes is many hosts, not many sockets in one process:
                // the kernel's per-socket delivery work stays what the pair's is.
                for (Channel ch : spokeChannels) {
                    ch.close().sync();
                }
                b.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[4]), spokeIps.getPort()))
                        .sync();
            }
            LoadGenerator.barrier(readyFile, goFile);

            long cpu0 = LoadGenerator.processCpuNanos();
            long each = both ? rate / 2 : rate;
            int[] toSpokes = new int[spokes];
            int[][] toHub = new int[spokes][];
            for (int k = 0; k < spokes; k++) {
                toSpokes[k] = SessionIds.spoke(k);
                toHub[k] = new int[] {SessionIds.hub(k)};
            }
            long nanos = (long) (durationS * 1e9);
            List<Sender> senders = new ArrayList<>();
            senders.add(new Sender(loop, List.of(hub), new int[][] {toSpokes}, size, batch, each, nanos, false));
            if (both) {
                senders.add(new Sender(loop, spokeChannels, toHub, size, batch, each, nanos, true));
            }
            for (Sender s : senders) {
                s.start();
            }
            for (Sender s : senders) {
                s.done().sync();
            }
            long txDone = System.nanoTime();
            LoadGenerator.waitForQuiet(loop, stats, txDone, false, idleMs, durationS);
            long cpu1 = LoadGenerator.processCpuNanos();
            Result r = loop.submit(() -> result(stats, handler, senders, (cpu1 - cpu0) / 1e9))
                    .get();
            String line = r.toJson(true);
            return line.substring(0, line.length() - 1)
                    + String.format(",\"spokes\":%d,\"prime_s\":%.3f}", spokes, primeS);
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
    }

    /** Initiations from every spoke, then the hub's responses, each resent until it arrived. */
    private void prime(EventLoop loop, SinkStats stats, Channel hub, List<Channel> spokeChannels) throws Exception {
        long deadline = System.nanoTime() + (long) (primeTimeoutS * 1e9);
        byte[] hubKey = HubHandshakes.publicKey(HubLayout.HUB);
        resendUntilSeen(loop, deadline, "initiations reaching the hub", t -> t.initiations, stats, k -> {
            Channel ch = spokeChannels.get(k);
            ch.write(Unpooled.wrappedBuffer(HubHandshakes.initiation(SessionIds.spoke(k), hubKey)));
            return ch;
        });
        resendUntilSeen(loop, deadline, "responses reaching the spokes", t -> t.responses, stats, k -> {
            byte[] spokeKey = HubHandshakes.publicKey(HubLayout.spokeName(k));
            hub.write(Unpooled.wrappedBuffer(HubHandshakes.response(SessionIds.hub(k), SessionIds.spoke(k), spokeKey)));
            return hub;
        });
    }

    private void resendUntilSeen(
            EventLoop loop,
            long deadline,
            String what,
            Function<HubHandshakes.Tally, BitSet> seen,
            SinkStats stats,
            Function<Integer, Channel> send)
            throws Exception {
        long pause = 50;
        while (true) {
            BitSet missing = loop.submit(() -> {
                        BitSet m = new BitSet();
                        BitSet s = seen.apply(stats.handshakes);
                        for (int k = 0; k < spokes; k++) {
                            if (!s.get(SessionIds.SPOKE_FLOW_BASE + k)) {
                                m.set(k);
                            }
                        }
                        return m;
                    })
                    .get();
            if (missing.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(missing.cardinality() + " of " + spokes + " " + what
                        + " never arrived; is the relay routing hub links (--max-links-per-peer)?");
            }
            loop.submit(() -> {
                        List<Channel> touched = new ArrayList<>();
                        // A batch of 64 per flush keeps the relay's receive queue from overflowing.
                        int n = 0;
                        for (int k = missing.nextSetBit(0); k >= 0; k = missing.nextSetBit(k + 1)) {
                            Channel ch = send.apply(k);
                            if (!touched.contains(ch)) {
                                touched.add(ch);
                            }
                            if (++n % 64 == 0) {
                                touched.forEach(Channel::flush);
                                touched.clear();
                            }
                        }
                        touched.forEach(Channel::flush);
                    })
                    .get();
            Thread.sleep(pause);
            pause = Math.min(1000, pause * 2);
        }
    }

    /** JIT warm-up on loopback: the hub's send path, one socket naming many sessions. */
    private void warmUp(EventLoop loop) throws Exception {
        SinkStats stats = new SinkStats();
        Bootstrap b = LoadGenerator.bootstrap(loop, new SinkHandler(stats, true), rcvbuf);
        InetAddress lo = InetAddress.getLoopbackAddress();
        Channel sink = b.bind(new InetSocketAddress(lo, 0)).sync().channel();
        Channel flow = b.connect(sink.localAddress(), new InetSocketAddress(lo, 0))
                .sync()
                .channel();
        int[] ids = new int[spokes];
        for (int k = 0; k < spokes; k++) {
            ids[k] = SessionIds.spoke(k);
        }
        new Sender(loop, List.of(flow), new int[][] {ids}, size, batch, 0, (long) (warmupS * 1e9), false)
                .start()
                .sync();
        Thread.sleep(100);
        flow.close().sync();
        sink.close().sync();
    }

    private Result result(SinkStats stats, SinkHandler handler, List<Sender> senders, double cpuS) {
        Result r = new Result();
        r.flows = both ? 2 * spokes : spokes;
        r.size = size;
        r.ratePps = rate;
        for (Sender s : senders) {
            r.durationS = Math.max(r.durationS, s.elapsedSeconds());
            r.sent += s.sent();
            r.unwritable += s.unwritable();
            r.skipped += s.skipped();
        }
        r.sent -= handler.sendErrors;
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
}
