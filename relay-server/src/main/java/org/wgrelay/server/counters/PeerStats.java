package org.wgrelay.server.counters;

/**
 * One peer's counters, striped per worker like {@link RelayCounters}. The object lives
 * as long as the peer is in the roster: forwarding tables rebuilt on change keep
 * pointing at the same instance, so counts survive link and endpoint changes.
 */
public final class PeerStats {
    private static final PeerCounter[] ALL = PeerCounter.values();
    private final StripedCounters counters;

    public PeerStats(int workers) {
        this.counters = new StripedCounters(workers + 2, ALL.length);
    }

    /** The stripe of the owner thread (roaming commits). */
    public int ownerStripe() {
        return counters.stripes() - 2;
    }

    /** The stripe only the XDP thread writes: what the kernel forwarded for this peer. */
    public int xdpStripe() {
        return counters.stripes() - 1;
    }

    /** Adds the kernel's forwarded packets and bytes since the last poll. XDP thread only. */
    public void addForwardedByKernel(long packets, long bytes, long nowMillis) {
        int s = xdpStripe();
        counters.add(s, PeerCounter.RX_PACKETS.ordinal(), packets);
        counters.add(s, PeerCounter.RX_BYTES.ordinal(), bytes);
        counters.add(s, PeerCounter.FWD_PACKETS.ordinal(), packets);
        counters.add(s, PeerCounter.FWD_BYTES.ordinal(), bytes);
        if (packets > 0) {
            counters.max(s, PeerCounter.LAST_SEEN_MILLIS.ordinal(), nowMillis);
        }
    }

    /** Counts one shaped datagram received from the peer's endpoint. Owner of {@code stripe} only. */
    public void received(int stripe, int bytes, long nowMillis) {
        counters.increment(stripe, PeerCounter.RX_PACKETS.ordinal());
        counters.add(stripe, PeerCounter.RX_BYTES.ordinal(), bytes);
        counters.max(stripe, PeerCounter.LAST_SEEN_MILLIS.ordinal(), nowMillis);
    }

    /** Counts one datagram forwarded to the partner. Owner of {@code stripe} only. */
    public void forwarded(int stripe, int bytes) {
        counters.increment(stripe, PeerCounter.FWD_PACKETS.ordinal());
        counters.add(stripe, PeerCounter.FWD_BYTES.ordinal(), bytes);
    }

    /**
     * Adds a count kept by the relay that handed its sockets over (SPEC D): summed, or for
     * {@code last_seen} the later time. Owner thread only (it writes the owner stripe).
     */
    public void inherit(PeerCounter counter, long value) {
        if (counter == PeerCounter.LAST_SEEN_MILLIS) {
            counters.max(ownerStripe(), counter.ordinal(), value);
        } else {
            counters.add(ownerStripe(), counter.ordinal(), value);
        }
    }

    public void increment(int stripe, PeerCounter counter) {
        counters.increment(stripe, counter.ordinal());
    }

    public long get(PeerCounter counter) {
        return counter == PeerCounter.LAST_SEEN_MILLIS
                ? counters.maxOf(counter.ordinal())
                : counters.sum(counter.ordinal());
    }

    /** Epoch millis of the last datagram from the peer, or 0 if none yet. */
    public long lastSeenMillis() {
        return Math.max(0, counters.maxOf(PeerCounter.LAST_SEEN_MILLIS.ordinal()));
    }
}
