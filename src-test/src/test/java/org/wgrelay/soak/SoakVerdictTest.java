package org.wgrelay.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

class SoakVerdictTest {
    private static final SoakVerdict.Limits ONE_MB_H = new SoakVerdict.Limits(1, 1, 4, 4);

    /** A sample every 10 s for {@code seconds}, RSS and heap as functions of time. */
    private static List<SoakVerdict.Sample> run(long seconds, LongUnaryOperator rss, LongUnaryOperator heap) {
        List<SoakVerdict.Sample> out = new ArrayList<>();
        for (long t = 0; t <= seconds; t += 10) {
            out.add(new SoakVerdict.Sample(t, rss.applyAsLong(t), heap.applyAsLong(t), 30, 60));
        }
        return out;
    }

    @Test
    void slopeIsInMebibytesPerHour() {
        // 2048 KiB an hour = 2 MB/h, exactly linear
        var samples = run(3600, t -> 100_000 + t * 2048 / 3600, t -> 20_000);
        assertEquals(2.0, SoakVerdict.slopePerHour(samples, true), 0.01);
        assertEquals(0.0, SoakVerdict.slopePerHour(samples, false), 1e-9);
    }

    @Test
    void warmUpGrowthDoesNotCount() {
        // 50 MiB of growth in the first 10 minutes, flat afterwards
        var samples = run(3600, t -> 100_000 + Math.min(t, 600) * 51_200 / 600, t -> 20_000);
        SoakVerdict v = SoakVerdict.judge(samples, 600, ONE_MB_H);
        assertTrue(v.passed(), v.failures().toString());
        assertEquals(0.0, v.rssSlopeMbH(), 1e-9);
    }

    @Test
    void failsWhenRssGrowsFasterThanTheLimitAfterWarmUp() {
        var samples = run(3600, t -> 100_000 + t * 3 * 1024 / 3600, t -> 20_000);
        SoakVerdict v = SoakVerdict.judge(samples, 600, ONE_MB_H);
        assertFalse(v.passed());
        assertTrue(
                v.failures().get(0).startsWith("RSS grows 3.00 MB/h"),
                v.failures().toString());
    }

    @Test
    void failsWhenHeapAfterGcGrows() {
        var samples = run(3600, t -> 100_000, t -> 20_000 + t * 2);
        assertFalse(SoakVerdict.judge(samples, 600, ONE_MB_H).passed());
    }

    @Test
    void descriptorsThatKeepGrowingFailWhileASingleSpikeDoesNot() {
        List<SoakVerdict.Sample> leaking = new ArrayList<>();
        List<SoakVerdict.Sample> spike = new ArrayList<>();
        for (long t = 0; t <= 180; t += 10) {
            leaking.add(new SoakVerdict.Sample(t, 100_000, 20_000, 30, 60 + t / 10));
            spike.add(new SoakVerdict.Sample(t, 100_000, 20_000, 30, t == 120 ? 61 : 60));
        }
        SoakVerdict v = SoakVerdict.judge(leaking, 60, ONE_MB_H);
        assertFalse(v.passed());
        assertEquals(9, v.fdGrowth()); // highest of t=150..180 (78) minus highest of t=60..90 (69)
        assertTrue(SoakVerdict.judge(spike, 60, ONE_MB_H).passed());
    }

    @Test
    void tooFewSteadySamplesIsAFailureNotAPass() {
        assertFalse(SoakVerdict.judge(run(30, t -> 1, t -> 1), 0, ONE_MB_H).passed());
    }
}
