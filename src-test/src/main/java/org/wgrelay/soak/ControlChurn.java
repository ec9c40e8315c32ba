// Soak: control-channel churn: every verb that changes or reads the roster, on fresh connections.
package org.wgrelay.soak;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One cycle per connection: two peers added, stamped, linked, moved, listed, unlinked and
 * removed, a blocklist entry added and removed, and the read verbs in between; one verb
 * every {@code stepMs}. Every verb must succeed (the cycle leaves the roster as it found
 * it). A second connection subscribes to the state events and reads them, and is
 * replaced every {@link #SUBSCRIBER_CYCLES} cycles.
 */
final class ControlChurn implements Runnable {
    static final int SUBSCRIBER_CYCLES = 20;

    final AtomicLong ok = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong events = new AtomicLong();

    private final InetSocketAddress control;
    private final long stepMs;
    private volatile boolean stop;
    private long next;

    ControlChurn(InetSocketAddress control, long stepMs) {
        this.control = control;
        this.stepMs = stepMs;
    }

    void stop() {
        stop = true;
    }

    @Override
    public void run() {
        next = System.currentTimeMillis();
        Thread subscriber = null;
        AtomicReference<ControlLine> sub = new AtomicReference<>();
        for (long cycle = 0; !stop; cycle++) {
            if (cycle % SUBSCRIBER_CYCLES == 0) {
                closeQuietly(sub.getAndSet(null));
                if (subscriber != null) {
                    join(subscriber);
                }
                subscriber = subscribe(sub);
            }
            try (ControlLine c = new ControlLine(control)) {
                cycle(c, cycle);
            } catch (IOException e) {
                failed.incrementAndGet();
                if (failed.get() <= 5) {
                    System.err.println("soak: control churn: " + e.getMessage());
                }
            }
        }
        closeQuietly(sub.getAndSet(null));
        if (subscriber != null) {
            join(subscriber);
        }
    }

    private void cycle(ControlLine c, long n) throws IOException {
        String a = "churn" + n + "a";
        String b = "churn" + n + "b";
        String host = (n / 250 % 250) + "." + (n % 250 + 1);
        String blocked = "10.253." + host;
        step(c, "wg peer add", a, "10.250." + host + ":40000", "soak-churn");
        step(c, "wg peer add", b, "10.251." + host + ":40000");
        step(c, "wg peer pubkey", a, randomKey());
        step(c, "wg peer pubkey", b, randomKey());
        step(c, "wg link add", a, b);
        step(c, "wg show");
        step(c, "wg peer update", a, "10.252." + host + ":40001");
        step(c, "wg peer list");
        step(c, "wg blocklist add", blocked, "90s");
        step(c, "wg blocklist list");
        step(c, "wg show drop_sources");
        step(c, "wg link list");
        step(c, "wg show config", a);
        step(c, "wg link remove", b, a);
        step(c, "wg blocklist remove", blocked);
        step(c, "wg peer remove", a);
        step(c, "wg peer remove", b);
        step(c, "help");
    }

    private void step(ControlLine c, String verb, String... args) throws IOException {
        if (stop) {
            return;
        }
        JsonNode r = c.call(verb, args);
        if (r.path("ok").asBoolean()) {
            ok.incrementAndGet();
        } else {
            failed.incrementAndGet();
            if (failed.get() <= 5) {
                System.err.println("soak: " + verb + " " + String.join(" ", args) + ": " + r.path("error"));
            }
        }
        next += stepMs;
        RoamingLoad.sleepUntil(next);
    }

    private Thread subscribe(AtomicReference<ControlLine> holder) {
        Thread t = new Thread(
                () -> {
                    try (ControlLine s = new ControlLine(control)) {
                        holder.set(s);
                        s.ok("subscribe");
                        while (s.readLine() != null) {
                            events.incrementAndGet();
                        }
                    } catch (IOException e) {
                        // closed by the churn loop (or by the relay at the end)
                    }
                },
                "soak-subscriber");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void join(Thread t) {
        try {
            t.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(ControlLine c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing; nothing to do
            }
        }
    }

    private static String randomKey() {
        byte[] k = new byte[32];
        ThreadLocalRandom.current().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }
}
