// Soak: the pass/fail rule over the samples, and the figures it rests on.
package org.wgrelay.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Least-squares slopes of RSS and of the heap after a full collection over the steady
 * part of a run (samples at or after {@code warmupS}), in MB/h (MiB, as the kernel counts
 * KiB), and the growth of descriptors and threads: the highest count of the last third
 * of the steady samples against the highest of the first third (highest, because a
 * sample can land while a control connection is open).
 */
record SoakVerdict(
        int steadySamples,
        double rssSlopeMbH,
        double heapSlopeMbH,
        long fdGrowth,
        long threadGrowth,
        List<String> failures) {

    /** One sample: seconds, RSS KiB, heap after GC KiB, threads, descriptors. */
    record Sample(long t, long rssKib, long heapKib, long threads, long fds) {}

    /** The limits; a negative slope limit is not checked. */
    record Limits(double maxRssSlopeMbH, double maxHeapSlopeMbH, long fdSlack, long threadSlack) {}

    static SoakVerdict judge(List<Sample> samples, long warmupS, Limits limits) {
        List<Sample> steady = new ArrayList<>();
        for (Sample s : samples) {
            if (s.t() >= warmupS) {
                steady.add(s);
            }
        }
        List<String> failures = new ArrayList<>();
        if (steady.size() < 6) {
            failures.add("only " + steady.size() + " samples after the warm-up: need 6");
            return new SoakVerdict(steady.size(), Double.NaN, Double.NaN, 0, 0, failures);
        }
        double rss = slopePerHour(steady, true);
        double heap = slopePerHour(steady, false);
        int third = Math.max(1, steady.size() / 3);
        List<Sample> first = steady.subList(0, third);
        List<Sample> last = steady.subList(steady.size() - third, steady.size());
        long fdGrowth = max(last, false) - max(first, false);
        long threadGrowth = max(last, true) - max(first, true);
        if (limits.maxRssSlopeMbH() >= 0 && rss > limits.maxRssSlopeMbH()) {
            failures.add(String.format(Locale.ROOT, "RSS grows %.2f MB/h > %.2f", rss, limits.maxRssSlopeMbH()));
        }
        if (limits.maxHeapSlopeMbH() >= 0 && heap > limits.maxHeapSlopeMbH()) {
            failures.add(
                    String.format(Locale.ROOT, "heap after GC grows %.2f MB/h > %.2f", heap, limits.maxHeapSlopeMbH()));
        }
        if (fdGrowth > limits.fdSlack()) {
            failures.add("open descriptors grew by " + fdGrowth + " > " + limits.fdSlack());
        }
        if (threadGrowth > limits.threadSlack()) {
            failures.add("threads grew by " + threadGrowth + " > " + limits.threadSlack());
        }
        return new SoakVerdict(steady.size(), rss, heap, fdGrowth, threadGrowth, failures);
    }

    /** Ordinary least squares of KiB over seconds, scaled to MiB per hour. */
    static double slopePerHour(List<Sample> samples, boolean rss) {
        double n = samples.size();
        double sx = 0;
        double sy = 0;
        for (Sample s : samples) {
            sx += s.t();
            sy += rss ? s.rssKib() : s.heapKib();
        }
        double mx = sx / n;
        double my = sy / n;
        double sxy = 0;
        double sxx = 0;
        for (Sample s : samples) {
            double dx = s.t() - mx;
            sxy += dx * ((rss ? s.rssKib() : s.heapKib()) - my);
            sxx += dx * dx;
        }
        return sxx == 0 ? 0 : sxy / sxx * 3600 / 1024;
    }

    private static long max(List<Sample> samples, boolean threads) {
        long m = Long.MIN_VALUE;
        for (Sample s : samples) {
            m = Math.max(m, threads ? s.threads() : s.fds());
        }
        return m;
    }

    boolean passed() {
        return failures.isEmpty();
    }
}
