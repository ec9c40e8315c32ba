package org.wgrelay.control.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.testing.Await;
import org.wgrelay.control.testing.LineClient;
import org.wgrelay.control.verb.ArgSpec;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbRegistry;
import org.wgrelay.control.verb.VerbSpec;

/**
 * The control listener under hostile load (issue #15, item 5): a thousand connections,
 * slowloris clients, clients that never read, slow verbs — while a fresh client's request
 * is answered quickly and what the relay holds for the others stays bounded.
 */
class ControlServerUnderLoadTest {
    static final VerbSpec SHOW = new VerbSpec("test show", Role.READ, "A wg show sized answer.", List.of());
    static final VerbSpec ECHO = new VerbSpec(
            "test echo", Role.READ, "Echoes its words.", List.of(ArgSpec.optionalRest("words", "anything")));
    static final VerbSpec BLOCK_READ = new VerbSpec("test block read", Role.READ, "Waits for the test.", List.of());
    static final VerbSpec BLOCK_WRITE =
            new VerbSpec("test block write", Role.OPERATOR, "Waits for the test.", List.of());
    static final VerbSpec MUTATE = new VerbSpec("test mutate", Role.OPERATOR, "Counts a change.", List.of());

    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicLong mutations = new AtomicLong();
    private final List<AutoCloseable> open = new ArrayList<>();
    private ControlServer server;

    private VerbRegistry registry() {
        return new VerbRegistry()
                .bind(SHOW, args -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (int i = 0; i < 24; i++) {
                        m.put("counter_" + i, 1_000_000L * i);
                    }
                    m.put("port", 51820);
                    return m;
                })
                .bind(ECHO, args -> Map.of("echo", args.isEmpty() ? "" : args.get(0)))
                .bind(BLOCK_READ, args -> Map.of("released", await()))
                .bind(BLOCK_WRITE, args -> Map.of("released", await()))
                .bind(MUTATE, args -> Map.of("mutations", mutations.incrementAndGet()));
    }

    private boolean await() {
        try {
            return release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private int start(ControlLimits limits) throws Exception {
        server = new ControlServer(new InetSocketAddress("127.0.0.1", 0), registry(), null, limits);
        server.start();
        return server.boundPort();
    }

    @AfterEach
    void stop() throws Exception {
        release.countDown();
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // already reset by the server
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private Socket connect(int port, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        open.add(s);
        return s;
    }

    /** Milliseconds from connecting a new socket to having the answer to one request on it. */
    private static double freshRequestMillis(int port, String verb) throws IOException {
        long t0 = System.nanoTime();
        try (LineClient c = new LineClient(port)) {
            JsonNode r = c.call(verb);
            assertTrue(r.get("ok").asBoolean(), r::toString);
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "load-client");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static double percentile(double[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    /**
     * A thousand open connections, a hundred of them slowloris clients at a byte a second,
     * four that pipeline requests for 4 KB answers and never read, eight that ask as fast as
     * they can: a fresh connection's request is answered quickly all the while, nobody is
     * closed for lack of room, and the output the relay holds for the clients that do not
     * read stays at the high-water mark plus one answer each.
     */
    @Test
    void aFreshClientIsAnsweredQuicklyWhileAThousandConnectionsSlowlorisAndNonReadersLoadTheListener()
            throws Exception {
        ControlLimits limits = ControlLimits.DEFAULTS;
        int port = start(limits);
        int idle = 900;
        int slowloris = 100;
        int nonReaders = 4;
        int busy = Integer.getInteger("load.busy", 8);
        for (int i = 0; i < idle; i++) {
            connect(port, 0);
        }
        List<OutputStream> slow = new ArrayList<>();
        for (int i = 0; i < slowloris; i++) {
            slow.add(connect(port, 0).getOutputStream());
        }
        AtomicBoolean running = new AtomicBoolean(true);
        ScheduledExecutorService loris = Executors.newSingleThreadScheduledExecutor();
        AtomicLong lorisBytes = new AtomicLong();
        loris.scheduleAtFixedRate(
                () -> {
                    for (OutputStream o : slow) {
                        try {
                            o.write('{'); // never a newline
                            lorisBytes.incrementAndGet();
                        } catch (IOException e) {
                            throw new AssertionError("a slowloris client was closed within the line deadline", e);
                        }
                    }
                },
                0,
                1,
                TimeUnit.SECONDS);
        open.add(loris::shutdownNow);

        String pad = "p".repeat(4000);
        byte[] pipelined = (LineClient.request(1, "test echo", pad) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicLong nonReaderBytesSent = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < nonReaders; i++) {
            OutputStream out = connect(port, 4096).getOutputStream();
            threads.add(daemon(() -> {
                try {
                    while (running.get()) {
                        out.write(pipelined); // blocks for good once the relay stops reading
                        nonReaderBytesSent.addAndGet(pipelined.length);
                    }
                } catch (IOException closedAtTheEnd) {
                    // the test closes the socket
                }
            }));
        }
        AtomicLong busyAnswers = new AtomicLong();
        for (int i = 0; i < busy; i++) {
            LineClient c = new LineClient(port);
            open.add(c);
            threads.add(daemon(() -> {
                try {
                    while (running.get()) {
                        c.call("test show");
                        busyAnswers.incrementAndGet();
                    }
                } catch (IOException | RuntimeException closedAtTheEnd) {
                    // the test closes the socket
                }
            }));
        }
        int total = idle + slowloris + nonReaders + busy;
        Await.until("every load connection is open", () -> server.connectionCount() == total);

        int probes = 300;
        double[] millis = new double[probes];
        long maxPendingOutput = 0;
        for (int i = 0; i < probes; i++) {
            millis[i] = freshRequestMillis(port, "test show");
            maxPendingOutput = Math.max(maxPendingOutput, server.pendingOutputBytes());
            Thread.sleep(10); // pace the probes over several slowloris seconds
        }
        running.set(false);
        assertTrue(lorisBytes.get() >= 3L * slowloris, "the slowloris clients were writing throughout");
        assertTrue(busy == 0 || busyAnswers.get() > 1000, "the busy clients were answered throughout: " + busyAnswers);
        assertEquals(total, server.connectionCount(), "no load connection was closed for room or time");

        double[] sorted = millis.clone();
        Arrays.sort(sorted);
        double p50 = percentile(sorted, 0.50);
        double p99 = percentile(sorted, 0.99);
        double max = sorted[sorted.length - 1];
        System.out.printf(
                "fresh 'test show' under load: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (%d probes);"
                        + " busy answers %d; max pending output %d bytes; non-readers sent %d bytes%n",
                p50,
                percentile(sorted, 0.90),
                p99,
                max,
                probes,
                busyAnswers.get(),
                maxPendingOutput,
                nonReaderBytesSent.get());
        // The goal is 100 ms. On a 2-core machine that also runs every load client (and, in
        // CI, other builds) the median holds it by far (measured 2-5 ms) while the tail is
        // the scheduler's (p99 measured 77-134 ms with the busy clients, 21-30 ms without):
        // the median is held to the goal, the tail to a bound that only a stall would pass.
        assertTrue(p50 < 100, "median fresh answer " + p50 + " ms");
        assertTrue(p99 < 1000, "p99 fresh answer " + p99 + " ms");
        // Each non-reader: at most the high-water mark plus the one answer that crossed it.
        long bound = nonReaders * (limits.outputHighWaterBytes() + 2L * pipelined.length);
        assertTrue(maxPendingOutput <= bound, "pending output " + maxPendingOutput + " > " + bound);
    }

    @Test
    void aClientThatNeverReadsStopsBeingReadAndIsClosedOnceItHasStalledForTheWriteStallTimeout() throws Exception {
        ControlLimits limits = new ControlLimits(
                64, Duration.ofSeconds(10), Duration.ofMinutes(5), 64 * 1024, Duration.ofMillis(300), 2);
        int port = start(limits);
        Socket s = connect(port, 4096);
        byte[] line = (LineClient.request(1, "test echo", "p".repeat(4000)) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicLong sent = new AtomicLong();
        Thread writer = daemon(() -> {
            try {
                while (true) {
                    s.getOutputStream().write(line);
                    sent.addAndGet(line.length);
                }
            } catch (IOException closedByTheServer) {
                // expected
            }
        });
        long maxPending = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.connectionCount() > 0 && System.nanoTime() < deadline) {
            maxPending = Math.max(maxPending, server.pendingOutputBytes());
            Thread.sleep(1);
        }
        assertEquals(0, server.connectionCount(), "the stalled client was closed");
        writer.join(10_000);
        assertTrue(maxPending <= limits.outputHighWaterBytes() + 2L * line.length, "pending output " + maxPending);
        try (LineClient c = new LineClient(port)) {
            assertTrue(c.call("test echo", "after").get("ok").asBoolean());
        }
    }

    @Test
    void aSlowVerbHoldsOnlyItsOwnLane() throws Exception {
        int port = start(ControlLimits.DEFAULTS);
        LineClient blockedWriter = new LineClient(port);
        open.add(blockedWriter);
        blockedWriter.writeLine(LineClient.request(1, "test block write").toString());
        List<LineClient> blockedReaders = new ArrayList<>();
        for (int i = 0; i < ControlLimits.DEFAULTS.readThreads() - 1; i++) {
            LineClient c = new LineClient(port);
            open.add(c);
            c.writeLine(LineClient.request(1, "test block read").toString());
            blockedReaders.add(c);
        }
        LineClient queuedMutation = new LineClient(port);
        open.add(queuedMutation);
        queuedMutation.writeLine(LineClient.request(2, "test mutate").toString());

        // Reads still answer on the reader thread that is left, while a mutation and
        // three reads are stuck in verbs and another mutation waits its turn.
        for (int i = 0; i < 20; i++) {
            try (LineClient c = new LineClient(port)) {
                assertEquals(
                        "r" + i,
                        c.call("test echo", "r" + i).get("result").get("echo").asText());
            }
        }
        assertEquals(0, mutations.get(), "mutations run one at a time: the second waits for the first");
        release.countDown();
        assertTrue(blockedWriter.readJson().get("result").get("released").asBoolean());
        for (LineClient c : blockedReaders) {
            assertTrue(c.readJson().get("result").get("released").asBoolean());
        }
        JsonNode r = queuedMutation.readJson();
        assertEquals(1, r.get("result").get("mutations").asInt(), r::toString);
    }

    @Test
    void aFloodOfConnectionsBeyondTheLimitStillLetsTheNewestOneIn() throws Exception {
        ControlLimits limits = new ControlLimits(
                200, Duration.ofSeconds(10), Duration.ofMinutes(5), 256 * 1024, Duration.ofSeconds(30), 4);
        int port = start(limits);
        for (int i = 0; i < 600; i++) {
            connect(port, 0);
        }
        for (int i = 0; i < 20; i++) {
            assertTrue(freshRequestMillis(port, "test show") < 10_000);
        }
        Await.until("the listener holds its limit", () -> server.connectionCount() <= limits.maxConnections());
        JsonNode first = ControlJson.MAPPER.readTree(
                new String(((Socket) open.get(0)).getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals("connection_limit", first.get("error").get("code").asText());
    }
}
