package org.wgrelay.it.udp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.wgrelay.server.server.HostPort;
import org.wgrelay.server.server.RelayDaemon;
import org.wgrelay.server.server.ServeConfig;
import org.wgrelay.server.server.XdpMode;

/**
 * A relay daemon running in this JVM on loopback, on a kernel-chosen port, with a
 * clock the test drives. Closing it stops the daemon and deletes its roster directory.
 */
final class RunningRelay implements AutoCloseable {
    final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    final Path dir;
    final RelayDaemon daemon;

    RunningRelay(String bind, int workers, boolean trace) throws Exception {
        dir = Files.createTempDirectory("wg-relay-it");
        ServeConfig config = new ServeConfig(InetAddress.getByName(bind), 0, workers, dir.resolve("wg-roster"),
                HostPort.parse("127.0.0.1:0"), null, HostPort.parse("127.0.0.1:0"), List.of(), XdpMode.OFF, trace);
        daemon = new RelayDaemon(config, clock::get);
        daemon.start();
    }

    InetSocketAddress udpAddress(String host) throws IOException {
        return new InetSocketAddress(InetAddress.getByName(host), daemon.udpPort());
    }

    long show(String key) {
        return ((Number) daemon.status().show().get(key)).longValue();
    }

    /** Waits until {@code condition} holds, failing with {@code what} after a deadline. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Override
    public void close() throws IOException {
        daemon.close();
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
