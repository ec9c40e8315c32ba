// Load generator: the one-line JSON result, and the merge of several.
package org.wgrelay.loadgen;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The numbers of one generator process, printed as one JSON line with the
 * same key names as udpblast where they mean the same, plus the sparse
 * latency histogram so that the lines of the two processes of a run (one per
 * namespace) merge into one exact result: loss = 1 - received / sent over
 * both directions, percentiles over all datagrams.
 *
 * <p>Parsing reads back only lines this class wrote (flat, numbers and one
 * string), so a regular expression per key is enough.
 */
final class Result {
    int flows;
    int size;
    long ratePps;
    double durationS;
    long sent;
    long sendErrors;
    long unwritable;
    long skipped;
    long received;
    long bytes;
    long gapLost;
    long reordered;
    long bad;
    long icmpErrors;
    int flowsSeen;
    long firstRxNanos;
    long lastRxNanos;
    double cpuS;
    final LatencyHistogram latency = new LatencyHistogram();

    static Result merge(List<Result> parts) {
        Result m = new Result();
        for (Result r : parts) {
            m.flows += r.flows;
            m.size = Math.max(m.size, r.size);
            m.ratePps += r.ratePps;
            m.durationS = Math.max(m.durationS, r.durationS);
            m.sent += r.sent;
            m.sendErrors += r.sendErrors;
            m.unwritable += r.unwritable;
            m.skipped += r.skipped;
            m.received += r.received;
            m.bytes += r.bytes;
            m.gapLost += r.gapLost;
            m.reordered += r.reordered;
            m.bad += r.bad;
            m.icmpErrors += r.icmpErrors;
            m.flowsSeen += r.flowsSeen;
            if (r.firstRxNanos != 0 && (m.firstRxNanos == 0 || r.firstRxNanos < m.firstRxNanos)) {
                m.firstRxNanos = r.firstRxNanos;
            }
            m.lastRxNanos = Math.max(m.lastRxNanos, r.lastRxNanos);
            m.cpuS += r.cpuS;
            m.latency.addAll(r.latency);
        }
        return m;
    }

    String toJson(boolean withHistogram) {
        double span = (lastRxNanos - firstRxNanos) / 1e9;
        StringBuilder sb = new StringBuilder(256);
        sb.append('{');
        num(sb, "flows", flows);
        num(sb, "size", size);
        num(sb, "rate_pps", ratePps);
        dec(sb, "duration_s", durationS, 3);
        num(sb, "sent", sent);
        dec(sb, "tx_pps", durationS > 0 ? sent / durationS : 0, 0);
        num(sb, "send_errors", sendErrors);
        num(sb, "unwritable", unwritable);
        num(sb, "skipped", skipped);
        num(sb, "received", received);
        // Only meaningful for a process (or merge) that received its own flows.
        dec(sb, "loss_pct", sent > 0 ? 100.0 * (sent - received) / sent : 0, 3);
        num(sb, "gap_lost", gapLost);
        dec(sb, "rx_pps", span > 0 ? received / span : 0, 0);
        dec(sb, "p50_us", latency.quantileMicros(0.50), 1);
        dec(sb, "p99_us", latency.quantileMicros(0.99), 1);
        dec(sb, "p999_us", latency.quantileMicros(0.999), 1);
        num(sb, "lat_n", latency.total());
        num(sb, "reordered", reordered);
        num(sb, "bad", bad);
        num(sb, "icmp_errors", icmpErrors);
        num(sb, "flows_seen", flowsSeen);
        num(sb, "first_rx_ns", firstRxNanos);
        num(sb, "last_rx_ns", lastRxNanos);
        sb.append("\"rx_ts\":\"user\",");
        dec(sb, "cpu_s", cpuS, 3);
        if (withHistogram) {
            sb.append("\"hist\":\"").append(latency.toSparse()).append("\",");
        }
        sb.setLength(sb.length() - 1);
        return sb.append('}').toString();
    }

    static Result parse(String line) {
        Result r = new Result();
        r.flows = (int) lng(line, "flows");
        r.size = (int) lng(line, "size");
        r.ratePps = lng(line, "rate_pps");
        r.durationS = dbl(line, "duration_s");
        r.sent = lng(line, "sent");
        r.sendErrors = lng(line, "send_errors");
        r.unwritable = lng(line, "unwritable");
        r.skipped = lng(line, "skipped");
        r.received = lng(line, "received");
        r.gapLost = lng(line, "gap_lost");
        r.reordered = lng(line, "reordered");
        r.bad = lng(line, "bad");
        r.icmpErrors = lng(line, "icmp_errors");
        r.flowsSeen = (int) lng(line, "flows_seen");
        r.firstRxNanos = lng(line, "first_rx_ns");
        r.lastRxNanos = lng(line, "last_rx_ns");
        r.cpuS = dbl(line, "cpu_s");
        Matcher h = Pattern.compile("\"hist\":\"([0-9:,]*)\"").matcher(line);
        if (h.find()) {
            r.latency.addSparse(h.group(1));
        }
        return r;
    }

    private static void num(StringBuilder sb, String key, long v) {
        sb.append('"').append(key).append("\":").append(v).append(',');
    }

    private static void dec(StringBuilder sb, String key, double v, int digits) {
        sb.append('"')
                .append(key)
                .append("\":")
                .append(String.format(Locale.ROOT, "%." + digits + "f", v))
                .append(',');
    }

    private static String raw(String line, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9.eE+]+)").matcher(line);
        if (!m.find()) {
            throw new IllegalArgumentException("result line has no " + key + ": " + line);
        }
        return m.group(1);
    }

    private static long lng(String line, String key) {
        return Long.parseLong(raw(line, key));
    }

    private static double dbl(String line, String key) {
        return Double.parseDouble(raw(line, key));
    }
}
