package org.wgrelay.it.takeover;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.wgrelay.it.netns.JavaCommand;

/**
 * A child process ({@link #main}, run inside the relay's namespace): WireGuard-shaped traffic with sequence numbers between two loopback endpoints that are linked
 * through the relay: each endpoint sends type-4 datagrams (the sequence number in the counter
 * field) to the relay, and records, per sequence number, what arrives from its partner. Loss and
 * duplication are then counted exactly, per datagram, not estimated from totals.
 *
 * <p>One sender thread paces both directions at {@code ratePerSecond} in total, in bursts every
 * millisecond; one receiver thread per endpoint.
 *
 * <pre>
 * SequencedLoad RELAY_IP RELAY_PORT A_PORT B_PORT RATE STOP_FILE
 *   binds 127.0.0.1:A_PORT and 127.0.0.1:B_PORT, prints "ready", sends until STOP_FILE exists,
 *   drains, prints "result sent=N received=N lost=N duplicated=N"
 * </pre>
 */
public final class SequencedLoad implements AutoCloseable {
    static final int DATAGRAM_BYTES = 128;
    private static final int TYPE_TRANSPORT = 4;

    private final Endpoint a;
    private final Endpoint b;
    private final int ratePerSecond;
    private InetSocketAddress relay;
    private volatile boolean sending;
    private Thread sender;

    SequencedLoad(int ratePerSecond, int portA, int portB) throws IOException {
        this.ratePerSecond = ratePerSecond;
        this.a = new Endpoint("a", 1, portA);
        this.b = new Endpoint("b", 2, portB);
    }

    /** The argv that runs the load inside a namespace. */
    static java.util.List<String> command(String relayIp, int relayPort, int portA, int portB, int rate, Path stop) {
        return JavaCommand.of(
                java.util.List.of("-Xmx256m"),
                SequencedLoad.class.getName(),
                relayIp,
                Integer.toString(relayPort),
                Integer.toString(portA),
                Integer.toString(portB),
                Integer.toString(rate),
                stop.toString());
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress relay = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        Path stop = Path.of(args[5]);
        try (SequencedLoad load =
                new SequencedLoad(Integer.parseInt(args[4]), Integer.parseInt(args[2]), Integer.parseInt(args[3]))) {
            load.start(relay);
            System.out.println("ready");
            while (!Files.exists(stop)) {
                Thread.sleep(10);
            }
            load.stopAndDrain(Duration.ofSeconds(3));
            System.out.println("result sent=" + load.sent() + " received=" + load.received() + " lost=" + load.lost()
                    + " duplicated=" + load.duplicated() + " (" + load.summary() + ")");
        }
    }

    /** Starts sending to {@code relay} (both endpoints) and receiving. */
    void start(InetSocketAddress relay) {
        this.relay = relay;
        a.startReceiving();
        b.startReceiving();
        sending = true;
        sender = new Thread(this::send, "load-sender");
        sender.setDaemon(true);
        sender.start();
    }

    private void send() {
        ByteBuffer buf = ByteBuffer.allocateDirect(DATAGRAM_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        long perMilli = Math.max(1, ratePerSecond / 1000 / 2); // per direction
        long next = System.nanoTime();
        try {
            while (sending) {
                for (int i = 0; i < perMilli; i++) {
                    a.sendNext(buf, relay);
                    b.sendNext(buf, relay);
                }
                next += TimeUnit.MILLISECONDS.toNanos(1);
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
        } catch (IOException e) {
            if (sending) {
                throw new IllegalStateException("sending failed", e);
            }
        }
    }

    /** Stops sending, then waits until everything sent arrived or nothing arrived for {@code quiet}. */
    void stopAndDrain(Duration quiet) throws InterruptedException {
        sending = false;
        sender.join(5_000);
        long last = -1;
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < quiet.toNanos()) {
            long now = a.receivedCount() + b.receivedCount();
            if (now == a.sent() + b.sent()) {
                return;
            }
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            }
            Thread.sleep(20);
        }
    }

    /** Datagrams sent so far, both directions. */
    long sent() {
        return a.sent() + b.sent();
    }

    /** Datagrams received so far (distinct sequence numbers), both directions. */
    long received() {
        return a.receivedCount() + b.receivedCount();
    }

    /** Sequence numbers sent but never received, both directions. */
    long lost() {
        return b.missingFrom(a.sent()) + a.missingFrom(b.sent());
    }

    /** Sequence numbers received more than once. */
    long duplicated() {
        return a.duplicates() + b.duplicates();
    }

    String summary() {
        return "sent a->b " + a.sent() + ", b->a " + b.sent() + "; received at b " + b.receivedCount() + ", at a "
                + a.receivedCount() + "; lost " + lost() + ", duplicated " + duplicated() + "; gaps a->b "
                + b.gaps(a.sent()) + ", b->a " + a.gaps(b.sent());
    }

    @Override
    public void close() {
        sending = false;
        a.close();
        b.close();
    }

    /** One side: its socket, its sequence counter, and what it received from the other side. */
    private static final class Endpoint {
        private final String name;
        private final int senderIndex;
        private final DatagramChannel channel;
        private final BitSet seen = new BitSet(1 << 22); // sized for minutes at 20 kpps: no growth mid-run
        private long receivedCount;
        private long duplicates;
        private volatile long nextSeq;
        private Thread receiver;

        Endpoint(String name, int senderIndex, int port) throws IOException {
            this.name = name;
            this.senderIndex = senderIndex;
            this.channel = DatagramChannel.open();
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
            channel.bind(new InetSocketAddress("127.0.0.1", port));
        }

        /** Sender thread only. */
        void sendNext(ByteBuffer buf, InetSocketAddress relay) throws IOException {
            long seq = nextSeq;
            buf.clear();
            buf.putInt(0, TYPE_TRANSPORT);
            buf.putInt(4, senderIndex);
            buf.putLong(8, seq);
            buf.limit(DATAGRAM_BYTES);
            if (channel.send(buf, relay) == 0) {
                throw new IOException("send buffer full");
            }
            nextSeq = seq + 1;
        }

        long sent() {
            return nextSeq;
        }

        void startReceiving() {
            receiver = new Thread(this::receive, "load-receiver-" + name);
            receiver.setDaemon(true);
            receiver.start();
        }

        private void receive() {
            ByteBuffer buf = ByteBuffer.allocateDirect(2048).order(ByteOrder.LITTLE_ENDIAN);
            try {
                while (true) {
                    buf.clear();
                    channel.receive(buf);
                    if (buf.position() != DATAGRAM_BYTES || buf.getInt(0) != TYPE_TRANSPORT) {
                        continue;
                    }
                    long seq = buf.getLong(8);
                    synchronized (this) {
                        if (seen.get((int) seq)) {
                            duplicates++;
                        } else {
                            seen.set((int) seq);
                            receivedCount++;
                        }
                    }
                }
            } catch (ClosedChannelException e) {
                // closed by the test
            } catch (IOException e) {
                throw new IllegalStateException("receiving failed at " + name, e);
            }
        }

        synchronized long receivedCount() {
            return receivedCount;
        }

        synchronized long duplicates() {
            return duplicates;
        }

        /** Of sequence numbers 0..sent-1 of the other side, how many never arrived here. */
        synchronized long missingFrom(long sent) {
            return sent - seen.get(0, (int) sent).cardinality();
        }

        /** The first few runs of missing sequence numbers, as first-last (with the time they were sent). */
        synchronized String gaps(long sent) {
            StringBuilder out = new StringBuilder("[");
            int from = seen.nextClearBit(0);
            for (int n = 0; n < 5 && from < sent; n++) {
                int to = Math.min((int) sent, seen.nextSetBit(from) < 0 ? (int) sent : seen.nextSetBit(from));
                out.append(n == 0 ? "" : ", ").append(from).append('-').append(to - 1);
                from = seen.nextClearBit(to);
            }
            return out.append(']').toString();
        }

        void close() {
            try {
                channel.close();
            } catch (IOException e) {
                // closing
            }
        }
    }
}
