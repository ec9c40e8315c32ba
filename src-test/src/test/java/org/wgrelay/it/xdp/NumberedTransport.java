package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.BitSet;

/**
 * Transport-data-shaped datagrams (type 4) that carry a sequence number in bytes 8..16, so a
 * test counts per datagram what crossed the relay, and which ones did not.
 */
final class NumberedTransport {
    static final int PAYLOAD = 96;

    private NumberedTransport() {}

    /** A type-4 datagram of {@link #PAYLOAD} bytes carrying {@code seq}. */
    static byte[] datagram(long seq) {
        byte[] b = new byte[PAYLOAD];
        b[0] = 4;
        ByteBuffer.wrap(b, 8, 8).putLong(seq);
        return b;
    }

    /**
     * The sequence numbers below {@code total} that {@code agent} received, until all are in or
     * {@link Traffic#ARRIVAL} passed; with {@code source} non-null, each must come from it.
     */
    static BitSet receive(UdpAgent agent, long total, String source) {
        BitSet got = new BitSet();
        long deadline = System.nanoTime() + Traffic.ARRIVAL.toNanos();
        while (got.cardinality() < total && System.nanoTime() < deadline) {
            for (UdpAgent.Received r : agent.drain()) {
                byte[] p = r.payload();
                if (p.length == PAYLOAD && p[0] == 4) {
                    long seq = ByteBuffer.wrap(p, 8, 8).getLong();
                    if (seq >= 0 && seq < total) {
                        if (source != null) {
                            assertEquals(source, r.source(), "source of datagram " + seq);
                        }
                        got.set((int) seq);
                    }
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return got;
    }
}
