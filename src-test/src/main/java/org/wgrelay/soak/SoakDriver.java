// Soak: drives a running relay with mixed load for a given time and samples it (main).
package org.wgrelay.soak;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The soak test's driver (src-test/bench/soak.sh starts the relay and the legit flows
 * and then this): registers its own peers over the control channel, runs roaming,
 * forgery, a flood and control churn until {@code --duration}, samples the relay every
 * {@code --interval} seconds into a CSV, keeps a class histogram at the end of the
 * warm-up and at the end, and the change of the JVM's native memory by area between
 * them (with {@code -XX:NativeMemoryTracking=summary} on the relay), and judges the run
 * ({@link SoakVerdict}).
 *
 * <pre>
 * SoakDriver --pid PID --relay IP:PORT --control HOST:PORT --metrics HOST:PORT --out DIR
 *   [--duration S] [--warmup S] [--interval S] [--roam-pairs N] [--forged-pairs N]
 *   [--flood-pps N] [--churn-step-ms MS]
 *   [--max-rss-slope MB/h] [--max-heap-slope MB/h] [--fd-slack N] [--thread-slack N]
 * </pre>
 *
 * Exit 0 when the verdict passes and the loads did their work, 1 otherwise, 2 on bad
 * options. DIR gets samples.csv, summary.txt (key=value), hist-*.txt and nmt-diff.txt.
 */
public final class SoakDriver {
    private final Map<String, String> opt = new LinkedHashMap<>();

    private SoakDriver(String[] args) {
        opt.put("duration", "180");
        opt.put("warmup", "60");
        opt.put("interval", "10");
        opt.put("roam-pairs", "3");
        opt.put("forged-pairs", "3");
        opt.put("flood-pps", "1000");
        opt.put("churn-step-ms", "200");
        opt.put("max-rss-slope", "1");
        opt.put("max-heap-slope", "1");
        opt.put("fd-slack", "4");
        opt.put("thread-slack", "4");
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected " + args[i]);
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        for (String need : List.of("pid", "relay", "control", "metrics", "out")) {
            if (!opt.containsKey(need)) {
                throw new IllegalArgumentException("missing --" + need);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        SoakDriver d;
        try {
            d = new SoakDriver(args);
        } catch (IllegalArgumentException e) {
            System.err.println("soak: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(d.run() ? 0 : 1);
    }

    private boolean run() throws Exception {
        Path out = Path.of(opt.get("out"));
        Files.createDirectories(out);
        long duration = num("duration");
        long warmup = num("warmup");
        long interval = num("interval");
        InetSocketAddress relay = endpoint(opt.get("relay"));
        InetSocketAddress control = endpoint(opt.get("control"));

        RoamingLoad roaming = new RoamingLoad(relay, (int) num("roam-pairs"), 10_000);
        ForgeryLoad forgery = new ForgeryLoad(relay, (int) num("forged-pairs"));
        FloodLoad flood = new FloodLoad(relay, (int) num("flood-pps"));
        ControlChurn churn = new ControlChurn(control, num("churn-step-ms"));
        try (ControlLine c = new ControlLine(control)) {
            roaming.register(c);
            forgery.register(c);
        }
        List<Thread> threads = new ArrayList<>();
        for (Runnable r : List.of(roaming, forgery, flood, churn)) {
            Thread t = new Thread(r, "soak-" + r.getClass().getSimpleName());
            t.start();
            threads.add(t);
        }

        List<SoakVerdict.Sample> samples = new ArrayList<>();
        long start = System.currentTimeMillis();
        boolean warmHistogram = false;
        try (RelaySampler sampler = new RelaySampler(num("pid"), opt.get("metrics"));
                PrintWriter csv =
                        new PrintWriter(Files.newBufferedWriter(out.resolve("samples.csv"), StandardCharsets.UTF_8))) {
            csv.println(RelaySampler.HEADER + ",roams_ok,roams_failed,control_ok,control_failed,flood_sent");
            for (long k = 0; ; k++) {
                RoamingLoad.sleepUntil(start + k * interval * 1000);
                long t = k * interval;
                String line = sampler.sample(t);
                csv.printf(
                        "%s,%d,%d,%d,%d,%d%n",
                        line,
                        roaming.ok.get(),
                        roaming.failed.get(),
                        churn.ok.get(),
                        churn.failed.get(),
                        flood.sent.get());
                csv.flush();
                String[] f = line.split(",");
                samples.add(new SoakVerdict.Sample(
                        t, Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[4]), Long.parseLong(f[5])));
                if (t % 60 == 0) {
                    System.err.printf(
                            "soak: t=%ds rss=%s KiB heap=%s KiB threads=%s fds=%s roams=%d/%d control=%d/%d%n",
                            t,
                            f[1],
                            f[2],
                            f[4],
                            f[5],
                            roaming.ok.get(),
                            roaming.failed.get(),
                            churn.ok.get(),
                            churn.failed.get());
                }
                // one sample before the steady part: the histogram's and the baseline's own
                // native memory (a few MB) then lands before the first sample judged
                if (!warmHistogram && t + interval >= warmup) {
                    Files.writeString(out.resolve("hist-warm.txt"), sampler.classHistogram());
                    sampler.nativeMemory("baseline");
                    warmHistogram = true;
                }
                if (t >= duration) {
                    break;
                }
            }
            roaming.stop();
            forgery.stop();
            flood.stop();
            churn.stop();
            for (Thread t : threads) {
                t.join(30_000);
            }
            Files.writeString(out.resolve("hist-end.txt"), sampler.classHistogram());
            Files.writeString(out.resolve("nmt-diff.txt"), sampler.nativeMemory("summary.diff"));
        }

        SoakVerdict v = SoakVerdict.judge(
                samples,
                warmup,
                new SoakVerdict.Limits(
                        dbl("max-rss-slope"), dbl("max-heap-slope"), num("fd-slack"), num("thread-slack")));
        List<String> failures = new ArrayList<>(v.failures());
        if (roaming.ok.get() == 0 || roaming.failed.get() > Math.max(3, roaming.ok.get() / 10)) {
            failures.add("roaming: " + roaming.ok.get() + " moves committed, " + roaming.failed.get() + " failed");
        }
        if (churn.ok.get() == 0 || churn.failed.get() > 0) {
            failures.add("control churn: " + churn.ok.get() + " verbs ok, " + churn.failed.get() + " failed");
        }
        SoakVerdict.Sample first = samples.get(0);
        SoakVerdict.Sample last = samples.get(samples.size() - 1);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("duration_s", last.t());
        s.put("warmup_s", warmup);
        s.put("steady_samples", v.steadySamples());
        s.put("rss_slope_mb_h", fmt(v.rssSlopeMbH()));
        s.put("heap_slope_mb_h", fmt(v.heapSlopeMbH()));
        s.put(
                "rss_kib_first_warm_last",
                first.rssKib() + "/" + atOrAfter(samples, warmup).rssKib() + "/" + last.rssKib());
        s.put(
                "heap_kib_first_warm_last",
                first.heapKib() + "/" + atOrAfter(samples, warmup).heapKib() + "/" + last.heapKib());
        s.put("fd_growth", v.fdGrowth());
        s.put("thread_growth", v.threadGrowth());
        s.put("fds_min_max", min(samples, false) + "/" + maxOf(samples, false));
        s.put("threads_min_max", min(samples, true) + "/" + maxOf(samples, true));
        s.put("roams_ok", roaming.ok.get());
        s.put("roams_failed", roaming.failed.get());
        s.put("control_ok", churn.ok.get());
        s.put("control_failed", churn.failed.get());
        s.put("events_read", churn.events.get());
        s.put("flood_sent", flood.sent.get());
        s.put("forgery_sent", forgery.sent.get());
        s.put("verdict", failures.isEmpty() ? "pass" : "FAIL: " + String.join("; ", failures));
        StringBuilder sb = new StringBuilder();
        s.forEach((k, val) -> sb.append(k).append('=').append(val).append('\n'));
        Files.writeString(out.resolve("summary.txt"), sb.toString());
        System.out.print(sb);
        return failures.isEmpty();
    }

    private static SoakVerdict.Sample atOrAfter(List<SoakVerdict.Sample> samples, long t) {
        for (SoakVerdict.Sample s : samples) {
            if (s.t() >= t) {
                return s;
            }
        }
        return samples.get(samples.size() - 1);
    }

    private static long min(List<SoakVerdict.Sample> samples, boolean threads) {
        return samples.stream()
                .mapToLong(s -> threads ? s.threads() : s.fds())
                .min()
                .orElse(0);
    }

    private static long maxOf(List<SoakVerdict.Sample> samples, boolean threads) {
        return samples.stream()
                .mapToLong(s -> threads ? s.threads() : s.fds())
                .max()
                .orElse(0);
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }

    private long num(String k) {
        return Long.parseLong(opt.get(k));
    }

    private double dbl(String k) {
        return Double.parseDouble(opt.get(k));
    }

    private static InetSocketAddress endpoint(String s) throws Exception {
        int colon = s.lastIndexOf(':');
        return new InetSocketAddress(
                InetAddress.getByName(s.substring(0, colon)), Integer.parseInt(s.substring(colon + 1)));
    }
}
