// Load generator: histogram precision and the merge of per-process result lines.
package org.wgrelay.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResultTest {

    @Test
    void histogramBucketsAreExactBelow256NanosAndWithinOnePercentAbove() {
        for (long v : new long[] {0, 1, 255, 256, 257, 1_000, 12_345, 999_999, 123_456_789, 10_000_000_000L}) {
            double mid = LatencyHistogram.value(LatencyHistogram.bucket(v));
            if (v < 256) {
                assertEquals(v, mid);
            } else {
                assertTrue(Math.abs(mid - v) / v < 0.01, v + " came back as " + mid);
            }
        }
        assertTrue(LatencyHistogram.bucket(Long.MAX_VALUE) < LatencyHistogram.BUCKETS);
    }

    @Test
    void quantilesComeFromTheRecordedDistribution() {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 1; i <= 1000; i++) {
            h.record(i * 1_000L); // 1 µs .. 1 ms
        }
        assertEquals(500, h.quantileMicros(0.50), 5);
        assertEquals(990, h.quantileMicros(0.99), 10);
        assertEquals(-1, new LatencyHistogram().quantileMicros(0.5));
    }

    @Test
    void mergedLinesCountLossOverBothDirectionsAndPoolTheHistograms() {
        Result a = new Result();
        a.flows = 1;
        a.sent = 1000;
        a.received = 900;
        a.firstRxNanos = 1_000_000_000L;
        a.lastRxNanos = 2_000_000_000L;
        for (int i = 0; i < 900; i++) {
            a.latency.record(10_000);
        }
        Result b = new Result();
        b.flows = 1;
        b.sent = 1000;
        b.received = 1000;
        b.firstRxNanos = 1_500_000_000L;
        b.lastRxNanos = 3_000_000_000L;
        for (int i = 0; i < 1000; i++) {
            b.latency.record(100_000);
        }

        Result m = Result.merge(List.of(Result.parse(a.toJson(true)), Result.parse(b.toJson(true))));

        assertEquals(2, m.flows);
        assertEquals(2000, m.sent);
        assertEquals(1900, m.received);
        assertEquals(1_000_000_000L, m.firstRxNanos);
        assertEquals(3_000_000_000L, m.lastRxNanos);
        assertEquals(1900, m.latency.total());
        assertEquals(100, m.latency.quantileMicros(0.99), 1);
        String json = m.toJson(false);
        assertTrue(json.contains("\"loss_pct\":5.000"), json);
        assertTrue(json.contains("\"rx_pps\":950"), json);
    }

    @Test
    void sinkCountsGapsAndReorderingPerFlow() {
        SinkStats s = new SinkStats();
        long t = 1_000;
        for (long seq : new long[] {0, 1, 3, 2, 5}) {
            s.account(7, seq, t, 128, t + 50);
        }
        assertEquals(5, s.received);
        assertEquals(1, s.gapLost()); // 4 never came
        assertEquals(1, s.reorderedTotal()); // 2 after 3
        assertEquals(6, s.expectedFromSequences());
        assertEquals(1, s.flowsSeen());
    }

    @Test
    void payloadIsTypeFourShapedWithFlowSequenceAndTimestamp() {
        ByteBuf buf = Unpooled.buffer(128);
        try {
            Payload.write(buf, 1001, 42, 123_456_789L, 128);
            assertEquals(128, buf.readableBytes());
            assertEquals(4, buf.getIntLE(0));
            assertTrue(Payload.isOurs(buf));
            assertEquals(1001, Payload.flowId(buf));
            assertEquals(42, Payload.sequence(buf));
            assertEquals(123_456_789L, Payload.sendNanos(buf));
            for (int i = Payload.HEADER_LENGTH; i < 128; i++) {
                assertEquals(0, buf.getByte(i));
            }
        } finally {
            buf.release();
        }
    }
}
