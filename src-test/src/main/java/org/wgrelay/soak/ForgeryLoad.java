// Soak: forgers who know the public keys: candidates that never confirm, strikes, blocks.
package org.wgrelay.soak;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.wgrelay.server.wire.Mac1;

/**
 * Victim pairs (linked, stamped, on 127.20.0.1) that never answer. Every
 * {@link #CAMPAIGN_TICKS} ticks a new forger address (127.100.0.0/16) sends an initiation
 * naming each victim (a MAC1 for its partner's key): each becomes a candidate, none
 * confirms, each expires after 30 s as a strike, and the strikes put the address on the
 * blocklist (SPEC "Timers"). In between, stray forgers from random addresses of
 * 127.101.0.0/16 hit victims whose candidate slot is taken, and the last campaign
 * addresses keep sending transport data, which the blocklist drops.
 */
final class ForgeryLoad implements Runnable {
    static final int TICK_MS = 500;
    static final int CAMPAIGN_TICKS = 62;

    final AtomicLong sent = new AtomicLong();

    private final InetSocketAddress relay;
    private final List<String[]> victims = new ArrayList<>(); // name, key, partner's MAC1 key index
    private final List<byte[]> partnerMac1Keys = new ArrayList<>();
    private final List<DatagramChannel> sockets = new ArrayList<>();
    private final Deque<InetAddress> recentCampaigns = new ArrayDeque<>();
    private volatile boolean stop;

    ForgeryLoad(InetSocketAddress relay, int pairCount) {
        this.relay = relay;
        for (int i = 0; i < pairCount; i++) {
            byte[] ka = randomKey();
            byte[] kb = randomKey();
            victims.add(new String[] {"forged" + i + "a", Base64.getEncoder().encodeToString(ka)});
            victims.add(new String[] {"forged" + i + "b", Base64.getEncoder().encodeToString(kb)});
            // a forged initiation claiming to be "a" carries a MAC1 for b's key, and back
            partnerMac1Keys.add(Mac1.keyFor(kb));
            partnerMac1Keys.add(Mac1.keyFor(ka));
        }
    }

    void register(ControlLine control) throws IOException {
        InetAddress home = Loopback.address(20, 0);
        for (String[] v : victims) {
            DatagramChannel ch = DatagramChannel.open();
            ch.bind(new InetSocketAddress(home, 0));
            ch.configureBlocking(false);
            sockets.add(ch);
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            control.ok("wg peer add", v[0], home.getHostAddress() + ":" + port, "soak-forgery-victim");
            control.ok("wg peer pubkey", v[0], v[1]);
        }
        for (int i = 0; i < victims.size(); i += 2) {
            control.ok("wg link add", victims.get(i)[0], victims.get(i + 1)[0]);
        }
    }

    void stop() {
        stop = true;
    }

    @Override
    public void run() {
        long tick = 0;
        long campaign = 0;
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long next = System.currentTimeMillis();
        while (!stop) {
            try {
                if (tick % CAMPAIGN_TICKS == 0) {
                    InetAddress forger = Loopback.address(100, campaign++);
                    byte[][] inits = new byte[victims.size()][];
                    for (int v = 0; v < inits.length; v++) {
                        inits[v] = Datagrams.initiation(r.nextInt(), partnerMac1Keys.get(v));
                    }
                    Loopback.sendFrom(forger, relay, inits);
                    sent.addAndGet(inits.length);
                    recentCampaigns.addFirst(forger);
                    if (recentCampaigns.size() > 4) {
                        recentCampaigns.removeLast();
                    }
                } else {
                    int v = r.nextInt(victims.size());
                    Loopback.sendFrom(
                            Loopback.address(101, r.nextInt(1 << 16)),
                            relay,
                            Datagrams.initiation(r.nextInt(), partnerMac1Keys.get(v)));
                    for (InetAddress old : recentCampaigns) {
                        Loopback.sendFrom(old, relay, Datagrams.transport(r.nextInt(), 64));
                    }
                    sent.addAndGet(1 + recentCampaigns.size());
                }
                drainVictims();
            } catch (IOException e) {
                // a send that failed is a datagram the relay did not see; the next tick goes on
            }
            tick++;
            next += TICK_MS;
            RoamingLoad.sleepUntil(next);
        }
        for (DatagramChannel ch : sockets) {
            try {
                ch.close();
            } catch (IOException e) {
                // closing at the end; nothing to do
            }
        }
    }

    private void drainVictims() throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(2048);
        for (DatagramChannel ch : sockets) {
            while (ch.receive(buf.clear()) != null) {
                // the victims never answer
            }
        }
    }

    private static byte[] randomKey() {
        byte[] k = new byte[32];
        ThreadLocalRandom.current().nextBytes(k);
        return k;
    }
}
