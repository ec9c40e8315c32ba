package org.wgrelay.server.metrics;

/**
 * The aggregate counters: one stripe per worker event loop plus one for the control
 * thread (timers, roaming commits). Handlers hold their worker's stripe number.
 */
public final class RelayCounters {
    private static final RelayCounter[] ALL = RelayCounter.values();
    private final StripedCounters counters;
    private final int controlStripe;

    public RelayCounters(int workers) {
        this.counters = new StripedCounters(workers + 1, ALL.length);
        this.controlStripe = workers;
    }

    /** The stripe that threads other than the workers write to. */
    public int controlStripe() {
        return controlStripe;
    }

    public void increment(int stripe, RelayCounter counter) {
        counters.increment(stripe, counter.ordinal());
    }

    public long get(RelayCounter counter) {
        return counters.sum(counter.ordinal());
    }
}
