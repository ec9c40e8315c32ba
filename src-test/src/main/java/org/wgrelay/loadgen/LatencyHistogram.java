// Load generator: one-way latency histogram of the sink.
package org.wgrelay.loadgen;

/**
 * Log-linear histogram of nanosecond values: exact below 256 ns, then 128
 * sub-buckets per power of two, so every recorded value is off by less than
 * 0.8 % and the whole range of a {@code long} fits in 7,296 counters. Small
 * enough to be printed sparsely in the result line and merged across the
 * two generator processes (one per namespace) of a run.
 *
 * <p>Not thread-safe: one sink event loop owns it.
 */
final class LatencyHistogram {
    private static final int EXACT = 256;
    private static final int SUB_BITS = 7;
    private static final int SUB = 1 << SUB_BITS;
    static final int BUCKETS = EXACT + (63 - 8) * SUB;

    private final long[] counts = new long[BUCKETS];
    private long total;

    void record(long nanos) {
        if (nanos < 0) {
            return;
        }
        counts[bucket(nanos)]++;
        total++;
    }

    void add(int bucket, long count) {
        counts[bucket] += count;
        total += count;
    }

    void addAll(LatencyHistogram other) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
    }

    long total() {
        return total;
    }

    static int bucket(long v) {
        if (v < EXACT) {
            return (int) v;
        }
        int exp = 63 - Long.numberOfLeadingZeros(v); // >= 8
        int sub = (int) (v >>> (exp - SUB_BITS)) & (SUB - 1);
        return EXACT + (exp - 8) * SUB + sub;
    }

    /** Midpoint of a bucket, in nanoseconds. */
    static double value(int bucket) {
        if (bucket < EXACT) {
            return bucket;
        }
        int exp = (bucket - EXACT) / SUB + 8;
        int sub = (bucket - EXACT) % SUB;
        long low = (long) (SUB + sub) << (exp - SUB_BITS);
        long width = 1L << (exp - SUB_BITS);
        return low + width / 2.0;
    }

    /** The q-quantile in microseconds, or -1 when nothing was recorded (as udpblast). */
    double quantileMicros(double q) {
        if (total == 0) {
            return -1;
        }
        long want = (long) (q * total);
        long acc = 0;
        for (int i = 0; i < BUCKETS; i++) {
            acc += counts[i];
            if (acc > want) {
                return value(i) / 1000.0;
            }
        }
        return value(BUCKETS - 1) / 1000.0;
    }

    /** Sparse form {@code bucket:count,...} for the result line. */
    String toSparse() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < BUCKETS; i++) {
            if (counts[i] != 0) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                sb.append(i).append(':').append(counts[i]);
            }
        }
        return sb.toString();
    }

    void addSparse(String sparse) {
        if (sparse.isEmpty()) {
            return;
        }
        for (String pair : sparse.split(",")) {
            int colon = pair.indexOf(':');
            add(Integer.parseInt(pair.substring(0, colon)), Long.parseLong(pair.substring(colon + 1)));
        }
    }
}
