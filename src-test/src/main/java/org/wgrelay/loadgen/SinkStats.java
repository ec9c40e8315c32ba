// Load generator: what the sink counts.
package org.wgrelay.loadgen;

/**
 * Per-flow receive counters, sequence-gap loss, reordering and one-way
 * latency. Owned by the one event loop of a generator process: every
 * channel of the process is registered on it, so nothing here is shared
 * between threads while traffic flows; {@link LoadGenerator} reads it only
 * after a task on that loop has completed (which orders the reads after the
 * writes).
 */
final class SinkStats {
    /** Flow ids index arrays directly; udpblast and our generator use small ids. */
    static final int MAX_FLOW_ID = 1 << 16;

    private final long[] rx = new long[MAX_FLOW_ID];
    /** Highest sequence seen + 1, per flow: the sink's own estimate of "sent". */
    private final long[] nextSeq = new long[MAX_FLOW_ID];

    private final long[] reordered = new long[MAX_FLOW_ID];
    final LatencyHistogram latency = new LatencyHistogram();
    /** Handshake messages seen (hub benchmark priming), by the session they name. */
    final HubHandshakes.Tally handshakes = new HubHandshakes.Tally();

    long received;
    long bytes;
    /** Datagrams that are not ours: wrong type word, short, or a flow id out of range. */
    long bad;
    /** ICMP port unreachable reported on a connected socket (the far end was not listening). */
    long icmpErrors;

    long firstRxNanos;
    long lastRxNanos;

    void account(int flowId, long seq, long sendNanos, int length, long rxNanos) {
        if (flowId < 0 || flowId >= MAX_FLOW_ID) {
            bad++;
            return;
        }
        if (seq + 1 < nextSeq[flowId]) {
            reordered[flowId]++; // arrived after a later packet of its flow
        } else {
            nextSeq[flowId] = seq + 1;
        }
        rx[flowId]++;
        received++;
        bytes += length;
        if (firstRxNanos == 0) {
            firstRxNanos = rxNanos;
        }
        lastRxNanos = rxNanos;
        latency.record(rxNanos - sendNanos);
    }

    int flowsSeen() {
        int n = 0;
        for (long r : rx) {
            if (r != 0) {
                n++;
            }
        }
        return n;
    }

    long reorderedTotal() {
        long n = 0;
        for (long r : reordered) {
            n += r;
        }
        return n;
    }

    /**
     * Sequence-gap loss: packets whose sequence lies below the highest one
     * seen on their flow but never arrived. Misses loss at the tail of a flow;
     * the exact figure is 1 - received / sent, which needs the sender's count.
     */
    long gapLost() {
        long n = 0;
        for (int i = 0; i < MAX_FLOW_ID; i++) {
            n += Math.max(0, nextSeq[i] - rx[i]);
        }
        return n;
    }

    long expectedFromSequences() {
        long n = 0;
        for (long s : nextSeq) {
            n += s;
        }
        return n;
    }
}
