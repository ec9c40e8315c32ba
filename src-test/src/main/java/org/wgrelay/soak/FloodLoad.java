// Soak: a flood from many source addresses of datagrams the relay must drop.
package org.wgrelay.soak;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code pps} datagrams a second, {@link #PER_SOURCE} from each source address, the
 * addresses walking through 127.200.0.0 - 127.249.255.255 (3.2 million), so that every
 * per-source table the relay keeps (drop sources, handshake budget) fills and evicts.
 * The mix: junk (not shaped), initiations whose MAC1 names no stamped key (each one a
 * search, within the budget), and responses, cookie replies and transport data from
 * unknown sources.
 */
final class FloodLoad implements Runnable {
    static final int PER_SOURCE = 4;
    private static final int TICK_MS = 20;

    final AtomicLong sent = new AtomicLong();

    private final InetSocketAddress relay;
    private final int pps;
    private volatile boolean stop;

    FloodLoad(InetSocketAddress relay, int pps) {
        this.relay = relay;
        this.pps = pps;
    }

    void stop() {
        stop = true;
    }

    @Override
    public void run() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long source = 0;
        long next = System.currentTimeMillis();
        double owed = 0;
        while (!stop) {
            if (System.currentTimeMillis() - next > 1000) {
                // fell behind (a paused machine): go on at the rate, do not catch up in a burst
                next = System.currentTimeMillis();
                owed = 0;
            }
            owed += pps * TICK_MS / 1000.0;
            while (owed >= PER_SOURCE) {
                long n = source++;
                InetAddress from = Loopback.address(200 + (int) (n / (254L * 256) % 50), n % (254L * 256));
                byte[][] batch = new byte[PER_SOURCE][];
                for (int i = 0; i < PER_SOURCE; i++) {
                    batch[i] = switch (r.nextInt(10)) {
                        case 0, 1, 2 -> Datagrams.junk();
                        case 3, 4, 5 -> Datagrams.initiation(r.nextInt(), null);
                        case 6 -> Datagrams.response(r.nextInt(), r.nextInt(), null);
                        case 7 -> Datagrams.cookie(r.nextInt());
                        default -> Datagrams.transport(r.nextInt(), 32 + r.nextInt(1400));
                    };
                }
                try {
                    Loopback.sendFrom(from, relay, batch);
                    sent.addAndGet(PER_SOURCE);
                } catch (IOException e) {
                    // not sent; the flood goes on
                }
                owed -= PER_SOURCE;
            }
            next += TICK_MS;
            RoamingLoad.sleepUntil(next);
        }
    }
}
