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
    private final boolean tls;

    private LocalEtcd(Process process, Path dataDir, int clientPort, boolean tls) {
        this.process = process;
        this.dataDir = dataDir;
        this.clientPort = clientPort;
        this.tls = tls;
    }

    static LocalEtcd start() throws IOException, InterruptedException {
        return start(false);
    }

    /**
     * With {@code tls}: certificates from a CA made here with openssl ({@link #ca()},
     * {@link #clientCert()}, {@link #clientKey()} in PKCS#8), client certificates required.
     */
    static LocalEtcd start(boolean tls) throws IOException, InterruptedException {
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
        String c = (tls ? "https" : "http") + "://127.0.0.1:" + client;
        String p = "http://127.0.0.1:" + peer;
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                ETCD.toString(),
                "--name=t",
                "--data-dir=" + dir.resolve("data"),
                "--listen-client-urls=" + c,
                "--advertise-client-urls=" + c,
                "--listen-peer-urls=" + p,
                "--initial-advertise-peer-urls=" + p,
                "--initial-cluster=t=" + p,
                "--log-level=error"));
        if (tls) {
            makeCertificates(dir);
            command.add("--cert-file=" + dir.resolve("server.pem"));
            command.add("--key-file=" + dir.resolve("server.key"));
            command.add("--trusted-ca-file=" + dir.resolve("ca.pem"));
            command.add("--client-cert-auth");
        }
        Process proc = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("etcd.log").toFile())
                .start();
        LocalEtcd etcd = new LocalEtcd(proc, dir, client, tls);
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
        return (tls ? "https" : "http") + "://127.0.0.1:" + clientPort;
    }

    Path ca() {
        return dataDir.resolve("ca.pem");
    }

    Path clientCert() {
        return dataDir.resolve("client.pem");
    }

    Path clientKey() {
        return dataDir.resolve("client-pkcs8.key");
    }

    /** Runs etcdctl against this member (with the client certificate under TLS); its output, or a failure. */
    String etcdctl(String... args) throws IOException, InterruptedException {
        java.util.List<String> command =
                new java.util.ArrayList<>(java.util.List.of("/usr/bin/etcdctl", "--endpoints", endpoint()));
        if (tls) {
            command.addAll(java.util.List.of(
                    "--cacert",
                    ca().toString(),
                    "--cert",
                    clientCert().toString(),
                    "--key",
                    clientKey().toString()));
        }
        command.addAll(java.util.List.of(args));
        return run(command);
    }

    private static String run(java.util.List<String> command) throws IOException, InterruptedException {
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true);
        b.environment().put("ETCDCTL_API", "3");
        Process proc = b.start();
        String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!proc.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || proc.exitValue() != 0) {
            fail(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    /** A CA, a server certificate for 127.0.0.1 and a client certificate, with openssl. */
    private static void makeCertificates(Path dir) throws IOException, InterruptedException {
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        openssl(
                dir,
                "req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 1"
                        + " -keyout ca.key -out ca.pem -subj /CN=wg-relay-test-CA");
        for (String who : new String[] {"server", "client"}) {
            openssl(
                    dir,
                    "req -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1" + " -keyout " + who + ".key -out "
                            + who + ".csr -subj /CN=" + who);
            openssl(
                    dir,
                    "x509 -req -days 1 -in " + who + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial" + " -out " + who
                            + ".pem -extfile " + who + ".ext");
        }
        openssl(dir, "pkcs8 -topk8 -nocrypt -in client.key -out client-pkcs8.key");
    }

    /** One openssl command (space-separated words, file names relative to {@code dir}). */
    private static void openssl(Path dir, String words) throws IOException, InterruptedException {
        java.util.List<String> command = new java.util.ArrayList<>();
        command.add("openssl");
        for (String w : words.split(" ")) {
            command.add(
                    w.endsWith(".key") || w.endsWith(".pem") || w.endsWith(".csr") || w.endsWith(".ext")
                            ? dir.resolve(w).toString()
                            : w);
        }
        run(command);
    }

    private boolean healthy() {
        if (tls) {
            try {
                etcdctl("endpoint", "health");
                return true;
            } catch (AssertionError | IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
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
