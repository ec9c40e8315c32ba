package org.wgrelay.server.counters;

/**
 * The aggregate counters: one stripe per worker event loop, one for the owner thread
 * (timers, roaming commits), and one for the XDP thread, which adds what the kernel
 * handled on its own. Handlers hold their worker's stripe number.
 */
public final class RelayCounters {
    private static final RelayCounter[] ALL = RelayCounter.values();
    private final StripedCounters counters;
    private final int ownerStripe;

    public RelayCounters(int workers) {
        this.counters = new StripedCounters(workers + 2, ALL.length);
        this.ownerStripe = workers;
    }

    /** The stripe only the XDP thread writes: the kernel's share of the counts. */
    public int xdpStripe() {
        return ownerStripe + 1;
    }

    public void add(int stripe, RelayCounter counter, long delta) {
        counters.add(stripe, counter.ordinal(), delta);
    }

    /** The owner thread's stripe (roaming follow-ups, sweeps): its one writer. */
    public int ownerStripe() {
        return ownerStripe;
    }

    public void increment(int stripe, RelayCounter counter) {
        counters.increment(stripe, counter.ordinal());
    }

    public long get(RelayCounter counter) {
        return counters.sum(counter.ordinal());
    }
}
