// Benchmark probe: bytes allocated by the threads of the JVM under test.
package org.wgrelay.loadgen;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;

/**
 * A tiny Java agent for the relay under benchmark:
 * {@code -javaagent:allocprobe.jar=FILE[,THREAD_REGEX]}. Every 100 ms it
 * writes (atomically, by rename) one line to FILE:
 *
 * <pre>
 *   &lt;nanoTime&gt; &lt;bytes all threads&gt; &lt;bytes of matching threads&gt; &lt;matching thread count&gt; &lt;names&gt;
 * </pre>
 *
 * from {@code com.sun.management.ThreadMXBean.getThreadAllocatedBytes}, a
 * per-thread TLAB-exact counter. The benchmark reads FILE while the relay
 * is idle before and after a run, so the 100 ms staleness costs nothing and
 * the difference is exactly what the run allocated. Threads that exited
 * meanwhile drop out of the sum (the relay's threads live for the whole
 * run). The probe's own thread is left out. The default regex matches
 * Netty's event-loop threads under their usual names.
 */
public final class AllocProbe {
    private AllocProbe() {}

    public static void premain(String args, Instrumentation inst) {
        String[] a = args == null ? new String[0] : args.split(",", 2);
        if (a.length == 0 || a[0].isEmpty()) {
            System.err.println("allocprobe: need -javaagent:allocprobe.jar=FILE[,THREAD_REGEX]");
            return;
        }
        Path out = Path.of(a[0]);
        Pattern loops = Pattern.compile(a.length > 1 ? a[1] : "(?i).*(loop|worker|epoll).*");
        Thread t = new Thread(() -> loop(out, loops), "allocprobe");
        t.setDaemon(true);
        t.start();
    }

    private static void loop(Path out, Pattern loops) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        while (true) {
            long[] ids = mx.getAllThreadIds();
            long[] bytes = mx.getThreadAllocatedBytes(ids);
            ThreadInfo[] infos = mx.getThreadInfo(ids);
            long all = 0;
            long matched = 0;
            int n = 0;
            StringBuilder names = new StringBuilder();
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == self || bytes[i] < 0 || infos[i] == null) {
                    continue;
                }
                all += bytes[i];
                if (loops.matcher(infos[i].getThreadName()).matches()) {
                    matched += bytes[i];
                    n++;
                    names.append(names.length() == 0 ? "" : ";")
                            .append(infos[i].getThreadName().replace(' ', '_'));
                }
            }
            String line = System.nanoTime() + " " + all + " " + matched + " " + n + " " + names + "\n";
            try {
                Files.writeString(tmp, line, StandardCharsets.US_ASCII);
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Thread.sleep(100);
            } catch (IOException e) {
                System.err.println("allocprobe: " + e);
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
