package org.wgrelay.server.store;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One real etcd member (Debian's {@code etcd-server}) on loopback with free ports and a
 * temporary data directory, for tests of the store against the real thing. The fleet's
 * end-to-end tests (src-test, {@code it.fleet}) run a 3-member cluster in namespaces; this
 * is the small in-process counterpart. Without {@code /usr/bin/etcd} a test skips, except
 * under {@code CI=true}, where it fails.
 */
final class LocalEtcd implements AutoCloseable {
    private static final Path ETCD = Path.of("/usr/bin/etcd");

    private final Process process;
    private final Path dataDir;
    private final int clientPort;

    private LocalEtcd(Process process, Path dataDir, int clientPort) {
        this.process = process;
        this.dataDir = dataDir;
        this.clientPort = clientPort;
    }

    static LocalEtcd start() throws IOException, InterruptedException {
        if (!Files.isExecutable(ETCD)) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true but " + ETCD + " is missing: run scripts/install-deps.sh --tests");
            }
            assumeTrue(
                    false, "skipped: " + ETCD + " is missing (scripts/install-deps.sh --tests installs etcd-server)");
        }
        int client = freePort();
        int peer = freePort();
        Path dir = Files.createTempDirectory("wg-relay-etcd");
        String c = "http://127.0.0.1:" + client;
        String p = "http://127.0.0.1:" + peer;
        Process proc = new ProcessBuilder(
                        ETCD.toString(),
                        "--name",
                        "t",
                        "--data-dir",
                        dir.resolve("data").toString(),
                        "--listen-client-urls",
                        c,
                        "--advertise-client-urls",
                        c,
                        "--listen-peer-urls",
                        p,
                        "--initial-advertise-peer-urls",
                        p,
                        "--initial-cluster",
                        "t=" + p,
                        "--log-level",
                        "error")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("etcd.log").toFile())
                .start();
        LocalEtcd etcd = new LocalEtcd(proc, dir, client);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!etcd.healthy()) {
            if (System.nanoTime() > deadline || !proc.isAlive()) {
                String log = Files.readString(dir.resolve("etcd.log"));
                etcd.close();
                fail("etcd did not become healthy: " + log);
            }
            Thread.sleep(100);
        }
        return etcd;
    }

    String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    private boolean healthy() {
        try {
            HttpURLConnection h = (HttpURLConnection)
                    URI.create(endpoint() + "/health").toURL().openConnection();
            h.setConnectTimeout(500);
            h.setReadTimeout(500);
            return h.getResponseCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }
}
