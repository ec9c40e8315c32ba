// Soak: one sample of the relay process: memory, GC, descriptors, threads, counters.
package org.wgrelay.soak;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Reads the relay from outside, as an operator's tools would:
 *
 * <ul>
 *   <li>RSS, threads: {@code /proc/PID/status} (VmRSS, Threads); open descriptors:
 *       the entries of {@code /proc/PID/fd}. RSS twice: as found ({@code rss_raw_kib}),
 *       and after the full collection below and a {@code System.trim_native_heap}
 *       ({@code rss_kib}, the figure judged): glibc keeps memory the JVM freed (the C2
 *       compiler's arenas above all) and hands it back only when trimmed, so the raw
 *       figure climbs in steps of up to ~25 MB that one trim takes back (measured: a
 *       trim after 21 minutes returned 22 MB while the JVM's own native memory
 *       tracking had shrunk); after the trim, RSS is what the process still uses;
 *   <li>heap after GC: the relay's own platform MBeans over the JDK's local management
 *       agent (started through the attach API, no option on the relay): a full
 *       collection ({@code MemoryMXBean.gc()}, i.e. {@code System.gc()}), then the sum of
 *       the heap pools' usage after that collection ({@code getCollectionUsage}). A full
 *       collection every sample costs the relay a pause of a few ms every 10 s; it makes
 *       the figure the live heap, not wherever the young generation happened to be;
 *   <li>GC pauses: the relay's {@code /metrics} ({@code jvm_gc_pause_seconds}, Micrometer),
 *       with the pauses of our own {@code System.gc()} left out (label
 *       {@code cause="System.gc()"}): what the relay's own work costs;
 *   <li>the packet counters, from the same scrape.
 * </ul>
 */
final class RelaySampler implements AutoCloseable {
    static final String HEADER = "t_s,rss_kib,heap_after_gc_kib,metaspace_kib,threads,fds,"
            + "gc_pauses,gc_pause_ms,gc_pause_max_ms,rx_packets,fwd_packets,relay_cpu_s,rss_raw_kib";

    private final long pid;
    private final URI metrics;
    private final JMXConnector jmx;
    private final MBeanServerConnection mbeans;
    private final MemoryMXBean memory;
    private final List<MemoryPoolMXBean> pools;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    RelaySampler(long pid, String metricsHostPort) throws Exception {
        this.pid = pid;
        this.metrics = URI.create("http://" + metricsHostPort + "/metrics");
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        String url;
        try {
            url = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        jmx = JMXConnectorFactory.connect(new JMXServiceURL(url));
        mbeans = jmx.getMBeanServerConnection();
        memory = ManagementFactory.newPlatformMXBeanProxy(
                mbeans, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        pools = ManagementFactory.getPlatformMXBeans(mbeans, MemoryPoolMXBean.class);
    }

    /** One CSV line for {@code t} seconds into the run. */
    String sample(long t) throws Exception {
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        long rawRss = statusField(status, "VmRSS:");
        long threads = statusField(status, "Threads:");
        long fds;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            fds = s.count();
        }
        memory.gc();
        long heap = 0;
        long metaspace = 0;
        for (MemoryPoolMXBean p : pools) {
            if (p.getType() == MemoryType.HEAP) {
                MemoryUsage after = p.getCollectionUsage();
                heap += after == null ? 0 : after.getUsed();
            } else if (p.getName().equals("Metaspace")) {
                metaspace = p.getUsage().getUsed();
            }
        }
        trimNativeHeap();
        long rss = statusField(Files.readString(Path.of("/proc/" + pid + "/status")), "VmRSS:");
        Scrape m = scrape();
        String[] stat = Files.readString(Path.of("/proc/" + pid + "/stat"))
                .replaceFirst(".*\\) ", "")
                .split(" ");
        double cpu = (Long.parseLong(stat[11]) + Long.parseLong(stat[12])) / 100.0; // utime, stime in ticks
        return String.format(
                java.util.Locale.ROOT,
                "%d,%d,%d,%d,%d,%d,%d,%.1f,%.1f,%d,%d,%.1f,%d",
                t,
                rss,
                heap / 1024,
                metaspace / 1024,
                threads,
                fds,
                m.pauses,
                m.pauseSeconds * 1000,
                m.pauseMaxSeconds * 1000,
                m.rx,
                m.fwd,
                cpu,
                rawRss);
    }

    /** {@code System.trim_native_heap} (JDK 17.0.9 and later; a no-op where it is missing). */
    private void trimNativeHeap() throws Exception {
        try {
            mbeans.invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "systemTrimNativeHeap",
                    new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
        } catch (javax.management.ReflectionException | javax.management.InstanceNotFoundException e) {
            // an older JDK: RSS then includes what glibc keeps
        }
    }

    /** {@code GC.class_histogram} of the relay (a full collection first), for a leak hunt. */
    String classHistogram() throws Exception {
        return (String) mbeans.invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "gcClassHistogram",
                new Object[] {new String[0]},
                new String[] {String[].class.getName()});
    }

    /**
     * {@code VM.native_memory} with {@code args} ("baseline", "summary.diff"): where the
     * relay's native memory went, by JVM area; a line saying so when the relay does not
     * run with {@code -XX:NativeMemoryTracking}.
     */
    String nativeMemory(String... args) throws Exception {
        return (String) mbeans.invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "vmNativeMemory",
                new Object[] {args},
                new String[] {String[].class.getName()});
    }

    private record Scrape(long pauses, double pauseSeconds, double pauseMaxSeconds, long rx, long fwd) {}

    private Scrape scrape() throws IOException, InterruptedException {
        String body = http.send(
                        HttpRequest.newBuilder(metrics)
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        long pauses = 0;
        double sum = 0;
        double max = 0;
        long rx = 0;
        long fwd = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith("#") || line.contains("cause=\"System.gc()\"")) {
                continue;
            }
            double v = value(line);
            if (line.startsWith("jvm_gc_pause_seconds_count{")) {
                pauses += (long) v;
            } else if (line.startsWith("jvm_gc_pause_seconds_sum{")) {
                sum += v;
            } else if (line.startsWith("jvm_gc_pause_seconds_max{")) {
                max = Math.max(max, v);
            } else if (line.startsWith("wgrelay_rx_packets_total")) {
                rx = (long) v;
            } else if (line.startsWith("wgrelay_forwarded_packets_total")) {
                fwd = (long) v;
            }
        }
        return new Scrape(pauses, sum, max, rx, fwd);
    }

    private static double value(String line) {
        int sp = line.lastIndexOf(' ');
        try {
            return Double.parseDouble(line.substring(sp + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static long statusField(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        jmx.close();
    }
}
