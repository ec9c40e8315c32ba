package org.wgrelay.it.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.RelayProcess;

/**
 * {@code relay-dist/target/wg-relay-VERSION.tar.gz}, the archive the systemd unit and the container
 * image install: its layout, and that its launcher runs the daemon from wherever it is unpacked,
 * also through a symbolic link (as {@code /usr/local/bin/wg-relay} in the image).
 *
 * <p>The reactor packages relay-dist before this module. Run alone, this test skips when the
 * archive is missing, except under CI=true.
 */
class DistributionArchiveTest {

    private static final Pattern METRICS_PORT = Pattern.compile("\\bmetrics=127\\.0\\.0\\.1:(\\d+)");

    private static Path unpacked;
    private static Path home;

    @BeforeAll
    static void unpackTheArchive() throws IOException {
        Path target = Podman.REPO.resolve("relay-dist/target");
        Path archive = null;
        if (Files.isDirectory(target)) {
            try (Stream<Path> files = Files.list(target)) {
                archive = files.filter(p -> p.getFileName().toString().matches("wg-relay-.+\\.tar\\.gz"))
                        .findFirst()
                        .orElse(null);
            }
        }
        if (archive == null) {
            String message = "no relay-dist/target/wg-relay-*.tar.gz (run `mvn package` on the whole reactor)";
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true: " + message);
            }
            Assumptions.abort(message);
        }
        unpacked = Files.createTempDirectory("wgr-dist-");
        Command.check(Duration.ofSeconds(60), List.of("tar", "-xzf", archive.toString(), "-C", unpacked.toString()));
        try (Stream<Path> dirs = Files.list(unpacked)) {
            home = dirs.findFirst().orElseThrow();
        }
        String name = archive.getFileName().toString();
        assertEquals(
                name.substring(0, name.length() - ".tar.gz".length()),
                home.getFileName().toString(),
                "the archive unpacks into one directory named like itself");
    }

    @AfterAll
    static void deleteTheUnpackedCopy() {
        if (unpacked != null) {
            Command.run(Duration.ofSeconds(30), List.of("rm", "-rf", unpacked.toString()));
        }
    }

    @Test
    void holdsTheLauncherTheDaemonsJarsAndTheSystemdFiles() throws IOException {
        assertTrue(Files.isExecutable(home.resolve("bin/wg-relay")), "bin/wg-relay");
        for (String file : List.of("wg-relay.service", "wg-relay-xdp.conf", "wg-relay.env", "wg-relay.sysusers")) {
            assertTrue(Files.isRegularFile(home.resolve("systemd").resolve(file)), "systemd/" + file);
        }
        for (String doc : List.of("quickstart.md", "operations.md")) {
            assertTrue(Files.isRegularFile(home.resolve("doc").resolve(doc)), "doc/" + doc);
        }
        Set<String> jars = jarsIn(home.resolve("lib"));
        assertTrue(jars.stream().anyMatch(j -> j.startsWith("relay-server-")), "relay-server jar in " + jars);
        // The same third-party jars as relay-server's own run-time class path (target/lib).
        Path serverLib = Podman.REPO.resolve("relay-server/target/lib");
        if (Files.isDirectory(serverLib)) {
            Set<String> expected = jarsIn(serverLib).stream()
                    .filter(j -> !j.contains("-SNAPSHOT"))
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> actual =
                    jars.stream().filter(j -> !j.contains("-SNAPSHOT")).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(expected, actual, "lib/ of the archive vs relay-server/target/lib");
        }
        // The XDP helper ships when it was built before packaging.
        if (Files.isExecutable(Podman.REPO.resolve("bpf/build/wg-relay-xdp-helper"))) {
            assertTrue(Files.isExecutable(home.resolve("bpf/build/wg-relay-xdp-helper")), "bpf/build helper");
            assertTrue(Files.isRegularFile(home.resolve("bpf/build/wg_relay.bpf.o")), "bpf/build object");
        }
    }

    @Test
    void theLauncherRunsTheDaemonThroughASymlinkWithEveryMetricTheDashboardQueries() throws IOException {
        Path link = unpacked.resolve("wg-relay-link");
        Files.createSymbolicLink(link, home.resolve("bin/wg-relay"));
        Command.Result version = Command.check(Duration.ofSeconds(60), List.of(link.toString(), "--version"));
        assertTrue(version.stdout().startsWith("wg-relay "), version.describe());

        Path roster = unpacked.resolve("wg-roster");
        Files.writeString(roster, "peer alice 192.0.2.7:51000\npeer bob 192.0.2.8:51000\nlink alice bob\n");
        // Configured through the environment only, as the unit and the image do.
        try (ChildProcess relay = ChildProcess.start(
                "dist relay",
                List.of(link.toString(), "serve"),
                Map.of(
                        "WG_RELAY_BIND", "127.0.0.1",
                        "WG_RELAY_PORT", "0",
                        "WG_RELAY_WORKERS", "1",
                        "WG_RELAY_ROSTER", roster.toString(),
                        "WG_RELAY_CONTROL", "127.0.0.1:0",
                        "WG_RELAY_METRICS", "127.0.0.1:0"))) {
            String line = relay.awaitLine(l -> l.contains(RelayProcess.STARTUP_PREFIX), Duration.ofSeconds(60));
            assertTrue(line.contains("peers=2 links=1"), line);

            // docs/grafana-dashboard.json queries only series that this relay exports.
            Matcher port = METRICS_PORT.matcher(line);
            assertTrue(port.find(), line);
            String metrics = get("http://127.0.0.1:" + port.group(1) + "/metrics");
            Set<String> missing = new TreeSet<>();
            for (String name : dashboardMetricNames()) {
                if (!Pattern.compile("(?m)^" + name + "[{ ]").matcher(metrics).find()) {
                    missing.add(name);
                }
            }
            assertEquals(Set.of(), missing, "metrics the dashboard queries but /metrics lacks");

            assertEquals(0, relay.stop(Duration.ofSeconds(20)), "SIGTERM must exit 0:\n" + relay.output());
        }
    }

    /** Every series name in the dashboard's PromQL, except Prometheus's own {@code up}. */
    private static Set<String> dashboardMetricNames() throws IOException {
        String dashboard = Files.readString(Podman.REPO.resolve("docs/grafana-dashboard.json"));
        Set<String> names = new TreeSet<>();
        Matcher expr = Pattern.compile("\"expr\": \"([^\"\\\\]|\\\\.)*\"").matcher(dashboard);
        while (expr.find()) {
            Matcher name = Pattern.compile("\\b([a-z][a-z0-9_]*)\\{").matcher(expr.group());
            while (name.find()) {
                names.add(name.group(1));
            }
        }
        names.remove("up");
        assertTrue(names.contains("wgrelay_peer_forwarded_bytes_total"), "dashboard queries: " + names);
        return names;
    }

    private static String get(String url) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(url))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), url);
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Set<String> jarsIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".jar"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
