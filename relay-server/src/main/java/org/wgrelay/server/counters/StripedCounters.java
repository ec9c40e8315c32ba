package org.wgrelay.server.counters;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A block of counters with one stripe per writer thread. Each stripe has exactly one
 * writer (an event loop, or the owner thread), which updates it with opaque
 * read-modify-write: no lock, no CAS, no contention. Readers sum the stripes.
 *
 * <p>Stripes are padded to whole cache lines so two workers never write the same line.
 */
public final class StripedCounters {
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int LONGS_PER_CACHE_LINE = 8;

    private final long[] cells;
    private final int stride;
    private final int stripes;
    private final int counters;

    /**
     * @param stripes number of writer threads
     * @param counters counters per stripe
     */
    public StripedCounters(int stripes, int counters) {
        if (stripes < 1 || counters < 1) {
            throw new IllegalArgumentException("stripes and counters must be positive");
        }
        this.stripes = stripes;
        this.counters = counters;
        // Round up to whole cache lines and add one line of padding between stripes.
        this.stride = ((counters + LONGS_PER_CACHE_LINE - 1) / LONGS_PER_CACHE_LINE + 1) * LONGS_PER_CACHE_LINE;
        this.cells = new long[stride * stripes + LONGS_PER_CACHE_LINE];
    }

    public int stripes() {
        return stripes;
    }

    /** Called only by the thread that owns {@code stripe}. */
    public void increment(int stripe, int counter) {
        add(stripe, counter, 1);
    }

    /** Called only by the thread that owns {@code stripe}. */
    public void add(int stripe, int counter, long delta) {
        int i = index(stripe, counter);
        CELLS.setOpaque(cells, i, (long) CELLS.getOpaque(cells, i) + delta);
    }

    /** Stores {@code value} if larger; for "last seen" style cells. Owner thread only. */
    public void max(int stripe, int counter, long value) {
        int i = index(stripe, counter);
        if ((long) CELLS.getOpaque(cells, i) < value) {
            CELLS.setOpaque(cells, i, value);
        }
    }

    /** Sum over all stripes; any thread. */
    public long sum(int counter) {
        checkCounter(counter);
        long total = 0;
        for (int s = 0; s < stripes; s++) {
            total += (long) CELLS.getOpaque(cells, s * stride + LONGS_PER_CACHE_LINE + counter);
        }
        return total;
    }

    /** Maximum over all stripes; any thread. */
    public long maxOf(int counter) {
        checkCounter(counter);
        long best = Long.MIN_VALUE;
        for (int s = 0; s < stripes; s++) {
            best = Math.max(best, (long) CELLS.getOpaque(cells, s * stride + LONGS_PER_CACHE_LINE + counter));
        }
        return best;
    }

    private int index(int stripe, int counter) {
        if (stripe < 0 || stripe >= stripes) {
            throw new IndexOutOfBoundsException("stripe " + stripe + " of " + stripes);
        }
        checkCounter(counter);
        // The first line of the array is padding, so stripe 0 does not share a line with the header.
        return stripe * stride + LONGS_PER_CACHE_LINE + counter;
    }

    private void checkCounter(int counter) {
        if (counter < 0 || counter >= counters) {
            throw new IndexOutOfBoundsException("counter " + counter + " of " + counters);
        }
    }
}
