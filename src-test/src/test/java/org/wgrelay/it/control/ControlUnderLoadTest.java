package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A real relay's control listener under the load of issue #15 item 5: a thousand
 * connections, slowloris clients at a byte a second, clients that pipeline {@code wg peer
 * list} and never read, and an operator changing the roster as fast as it can (each
 * change a roster file write) — while a fresh connection's {@code wg show} is answered
 * quickly. The listener's own limits are tested in relay-control
 * ({@code ControlServerUnderLoadTest}); this is the same with the relay's verbs.
 */
class ControlUnderLoadTest {
    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);

    private Socket connect(int port, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        open.add(s);
        return s;
    }

    private void background(Runnable r) {
        Thread t = new Thread(r, "control-load");
        t.setDaemon(true);
        t.start();
        threads.add(t);
    }

    @Test
    void aFreshWgShowIsAnsweredQuicklyUnderAThousandConnectionsSlowlorisNonReadersAndMutations() throws Exception {
        try (LocalRelay relay = LocalRelay.open()) {
            int port = relay.daemon.controlPort();
            try (RelayClient admin = relay.client()) {
                for (int i = 0; i < 100; i++) {
                    admin.ok("wg peer add", "p" + i, "198.51.100." + (i + 1) + ":51000");
                }
                for (int i = 0; i < 100; i += 2) {
                    admin.ok("wg link add", "p" + i, "p" + (i + 1));
                }
            }
            for (int i = 0; i < 900; i++) {
                connect(port, 0);
            }
            List<OutputStream> slow = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                slow.add(connect(port, 0).getOutputStream());
            }
            AtomicLong lorisBytes = new AtomicLong();
            background(() -> {
                long next = System.nanoTime();
                while (running.get()) {
                    for (OutputStream o : slow) {
                        try {
                            o.write('{'); // a byte a second, never a newline
                            lorisBytes.incrementAndGet();
                        } catch (IOException e) {
                            return;
                        }
                    }
                    next += TimeUnit.SECONDS.toNanos(1);
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        try {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            });
            byte[] peerList = "{\"id\":1,\"verb\":\"wg peer list\"}\n".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 2; i++) {
                OutputStream out = connect(port, 4096).getOutputStream();
                background(() -> {
                    try {
                        while (running.get()) {
                            out.write(peerList); // blocks once the relay stops reading it
                        }
                    } catch (IOException closedAtTheEnd) {
                        // the test closes the socket
                    }
                });
            }
            AtomicLong changes = new AtomicLong();
            RelayClient operator = relay.client();
            open.add(operator);
            background(() -> {
                try {
                    while (running.get()) {
                        operator.ok("wg peer add", "churn", "203.0.113.9:4000");
                        operator.ok("wg peer remove", "churn");
                        changes.addAndGet(2);
                    }
                } catch (IOException | AssertionError closedAtTheEnd) {
                    // the test closes the socket
                }
            });

            int probes = 200;
            double[] millis = new double[probes];
            for (int i = 0; i < probes; i++) {
                long t0 = System.nanoTime();
                try (RelayClient fresh = relay.client()) {
                    int peers = fresh.ok("wg show").get("peer_count").asInt();
                    assertTrue(peers == 100 || peers == 101, "peer_count " + peers); // 101 while churn exists
                }
                millis[i] = (System.nanoTime() - t0) / 1e6;
                Thread.sleep(10);
            }
            running.set(false);
            assertTrue(lorisBytes.get() >= 200, "the slowloris clients were writing throughout");
            assertTrue(changes.get() > 10, "the operator's changes went on throughout: " + changes);

            Arrays.sort(millis);
            double p50 = millis[probes / 2 - 1];
            double p99 = millis[(int) Math.ceil(0.99 * probes) - 1];
            System.out.printf(
                    "fresh 'wg show' on a loaded relay: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d probes);"
                            + " roster changes meanwhile %d%n",
                    p50, p99, millis[probes - 1], probes, changes.get());
            // The goal is 100 ms; the median holds it, the tail is the loaded machine's
            // scheduler (relay-control's ControlServerUnderLoadTest says more).
            assertTrue(p50 < 100, "median fresh wg show " + p50 + " ms");
            assertTrue(p99 < 1000, "p99 fresh wg show " + p99 + " ms");
        } finally {
            running.set(false);
            for (AutoCloseable c : open) {
                c.close();
            }
            for (Thread t : threads) {
                t.join(5_000);
            }
        }
    }
}
