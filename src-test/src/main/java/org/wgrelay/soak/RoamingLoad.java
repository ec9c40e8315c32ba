// Soak: linked, stamped pairs whose peers roam, each move proven as SPEC rules 3, 8 and 9 ask.
package org.wgrelay.soak;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.wgrelay.server.wire.Mac1;
import org.wgrelay.server.wire.WgMessage;

/**
 * Each pair's peers take turns moving to a new source endpoint with the whole sequence a
 * WireGuard peer produces: the mover's initiation from the new endpoint (MAC1 for the
 * partner's key) becomes a candidate and reaches the partner; the partner's response
 * answers it; the mover's first transport data passes; the partner's transport data to
 * the mover's index commits the move and reaches the new endpoint, which is the proof
 * this load checks. Then data flows both ways once more, and the old socket is closed.
 *
 * <p>A pair moves at most once per {@code periodMs} (the relay holds relearns off for
 * 5 s). Pair {@code i} lives on 127.10+i.0.0/16, apart from every other load.
 */
final class RoamingLoad implements Runnable {
    private static final int TIMEOUT_MS = 2000;

    final AtomicLong ok = new AtomicLong();
    final AtomicLong failed = new AtomicLong();

    private final InetSocketAddress relay;
    private final List<Peer[]> pairs = new ArrayList<>();
    private final long periodMs;
    private volatile boolean stop;

    private static final class Peer {
        final String name;
        final String key;
        /** The MAC1 key of messages sent to this peer. */
        final byte[] mac1Key;

        final int second;
        long moves;
        DatagramSocket socket;

        Peer(String name, int second) {
            this.name = name;
            this.second = second;
            byte[] k = new byte[32];
            ThreadLocalRandom.current().nextBytes(k);
            key = Base64.getEncoder().encodeToString(k);
            mac1Key = Mac1.keyFor(k);
        }
    }

    RoamingLoad(InetSocketAddress relay, int pairCount, long periodMs) {
        this.relay = relay;
        this.periodMs = periodMs;
        for (int i = 0; i < pairCount; i++) {
            pairs.add(new Peer[] {new Peer("roam" + i + "a", 10 + i), new Peer("roam" + i + "b", 10 + i)});
        }
    }

    /** Registers every pair (endpoints, keys, links); before {@link #run}. */
    void register(ControlLine control) throws IOException {
        for (Peer[] p : pairs) {
            for (Peer peer : p) {
                peer.socket = bind(peer);
                control.ok("wg peer add", peer.name, endpoint(peer.socket), "soak-roaming");
                control.ok("wg peer pubkey", peer.name, peer.key);
            }
            control.ok("wg link add", p[0].name, p[1].name);
        }
    }

    void stop() {
        stop = true;
    }

    @Override
    public void run() {
        long turn = 0;
        while (!stop) {
            long started = System.currentTimeMillis();
            for (Peer[] p : pairs) {
                if (stop) {
                    break;
                }
                Peer mover = p[(int) (turn % 2)];
                Peer partner = p[(int) ((turn + 1) % 2)];
                try {
                    if (move(mover, partner)) {
                        ok.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                } catch (IOException e) {
                    failed.incrementAndGet();
                }
            }
            turn++;
            sleepUntil(started + periodMs);
        }
        for (Peer[] p : pairs) {
            for (Peer peer : p) {
                peer.socket.close();
            }
        }
    }

    private boolean move(Peer mover, Peer partner) throws IOException {
        DatagramSocket moved = bind(mover);
        boolean done = false;
        try {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int moverIndex = r.nextInt();
            int partnerIndex = r.nextInt();
            send(moved, Datagrams.initiation(moverIndex, partner.mac1Key));
            if (!await(
                    partner.socket, WgMessage.TYPE_HANDSHAKE_INITIATION, WgMessage.SENDER_INDEX_OFFSET, moverIndex)) {
                return false;
            }
            send(partner.socket, Datagrams.response(partnerIndex, moverIndex, mover.mac1Key));
            if (!await(moved, WgMessage.TYPE_HANDSHAKE_RESPONSE, WgMessage.SENDER_INDEX_OFFSET, partnerIndex)) {
                return false;
            }
            send(moved, Datagrams.transport(partnerIndex, 96));
            await(partner.socket, WgMessage.TYPE_TRANSPORT_DATA, WgMessage.RECEIVER_INDEX_OFFSET, partnerIndex);
            send(partner.socket, Datagrams.transport(moverIndex, 96));
            if (!await(moved, WgMessage.TYPE_TRANSPORT_DATA, WgMessage.RECEIVER_INDEX_OFFSET, moverIndex)) {
                return false;
            }
            // committed: data flows from the new endpoint as from any registered one
            send(moved, Datagrams.transport(partnerIndex, 128));
            done = await(partner.socket, WgMessage.TYPE_TRANSPORT_DATA, WgMessage.RECEIVER_INDEX_OFFSET, partnerIndex);
            return done;
        } finally {
            if (done) {
                mover.socket.close();
                mover.socket = moved;
            } else {
                moved.close();
            }
        }
    }

    private DatagramSocket bind(Peer peer) throws IOException {
        // alternate between two addresses: a move changes the source IP as well as the port
        DatagramSocket s =
                new DatagramSocket(new InetSocketAddress(Loopback.address(peer.second, peer.moves++ % 2), 0));
        s.setSoTimeout(TIMEOUT_MS);
        return s;
    }

    private void send(DatagramSocket from, byte[] datagram) throws IOException {
        from.send(new DatagramPacket(datagram, datagram.length, relay));
    }

    /** Reads {@code s} until a datagram of {@code type} with {@code index} at {@code offset} arrives. */
    private static boolean await(DatagramSocket s, int type, int offset, int index) throws IOException {
        byte[] buf = new byte[2048];
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                s.receive(p);
            } catch (SocketTimeoutException e) {
                return false;
            }
            if (Datagrams.type(buf, p.getLength()) == type
                    && p.getLength() >= offset + 4
                    && Datagrams.index(buf, offset) == index) {
                return true;
            }
        }
        return false;
    }

    private static String endpoint(DatagramSocket s) {
        return s.getLocalAddress().getHostAddress() + ":" + s.getLocalPort();
    }

    static void sleepUntil(long wallMillis) {
        long left;
        while ((left = wallMillis - System.currentTimeMillis()) > 0) {
            try {
                Thread.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
