package org.wgrelay.it.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;

/**
 * One relay of the fleet: a wg-relay process on a relay host of {@link FleetNet}, its control
 * channel and its metrics listener (both on the host's loopback, ephemeral ports read from the
 * startup line). With an etcd cluster it runs with {@code --etcd-endpoints} (the roster file is
 * then its cache) and {@code --relay-id relay<N>}.
 */
public final class FleetRelay implements AutoCloseable {

    private static final Pattern METRICS = Pattern.compile("\\bmetrics=127\\.0\\.0\\.1:(\\d+)\\b");
    private static final Duration STARTUP = Duration.ofSeconds(90);

    final String id;
    final Netns ns;
    final Path roster;
    final RelayProcess process;
    final RelayControl control;
    final int metricsPort;

    private FleetRelay(String id, Netns ns, Path roster, RelayProcess process) {
        this.id = id;
        this.ns = ns;
        this.roster = roster;
        this.process = process;
        this.control = RelayControl.of(process, ns);
        Matcher m = METRICS.matcher(process.startupLine());
        if (!m.find()) {
            throw new IllegalStateException("no metrics=127.0.0.1:PORT in " + process.startupLine());
        }
        this.metricsPort = Integer.parseInt(m.group(1));
    }

    /**
     * Starts relay {@code i} (0-based; id {@code relay<i+1>}) on its host, bound to {@code bind}
     * on {@link FleetNet#RELAY_PORT}, with the roster at {@code roster}, on the fleet's etcd when
     * it has one, plus {@code extraArgs}. Returns once it printed its startup line.
     */
    public static FleetRelay start(FleetNet net, int i, String bind, Path roster, String... extraArgs) {
        String id = "relay" + (i + 1);
        List<String> args = new ArrayList<>();
        if (net.etcd != null) {
            args.addAll(List.of("--etcd-endpoints", net.etcd.endpoints(), "--relay-id", id));
        }
        args.addAll(List.of(extraArgs));
        RelayProcess process = net.topology.adopt(RelayProcess.start(
                net.host(i), bind, FleetNet.RELAY_PORT, roster, 1, STARTUP, args.toArray(String[]::new)));
        return new FleetRelay(id, net.host(i), roster, process);
    }

    /** The keepalived check of this relay: its {@code /healthz} answers 200 within a second. */
    public String healthCheck() {
        return Prerequisites.which("curl") + " -fsS -m 1 -o /dev/null http://127.0.0.1:" + metricsPort + "/healthz";
    }

    /** The HTTP status of {@code path} on the metrics listener ({@code /readyz}, {@code /healthz}). */
    public int httpStatus(String path) {
        String code = ns.tryExec(
                        Duration.ofSeconds(10),
                        Prerequisites.which("curl"),
                        "-s",
                        "-m",
                        "2",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "http://127.0.0.1:" + metricsPort + path)
                .stdout()
                .strip();
        return code.isEmpty() ? 0 : Integer.parseInt(code);
    }

    /** Waits until {@code /readyz} answers 200: with etcd, after the relay's first full sync. */
    public void awaitReady(Duration timeout) {
        Await.until(timeout, id + "'s /readyz to answer 200", () -> httpStatus("/readyz") == 200, this::output);
    }

    /** The value of the unlabelled sample {@code name} on {@code /metrics}; fails when absent. */
    public double metric(String name) {
        String text = ns.exec(
                        Duration.ofSeconds(10),
                        Prerequisites.which("curl"),
                        "-fsS",
                        "-m",
                        "5",
                        "http://127.0.0.1:" + metricsPort + "/metrics")
                .stdout();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).strip());
            }
        }
        throw new AssertionError("no sample " + name + " on " + id + "'s /metrics");
    }

    /** A verb that must succeed; its result. */
    public JsonNode call(String verb, String... args) {
        return control.call(verb, args);
    }

    /** A verb's whole response, {@code ok} or not. */
    public JsonNode response(String verb, String... args) {
        return control.response(verb, args);
    }

    /** The error code of a refused verb, or null when it succeeded. */
    public String errorCode(String verb, String... args) {
        JsonNode response = response(verb, args);
        return response.path("ok").asBoolean(false)
                ? null
                : response.path("error").path("code").asText();
    }

    /** The names of {@code wg peer list}. */
    public List<String> peerNames() {
        List<String> names = new ArrayList<>();
        for (JsonNode row : call("wg peer list").path("peers")) {
            names.add(row.path("name").asText());
        }
        return names;
    }

    /** Whether {@code wg link list} has the link between {@code a} and {@code b}, in either order. */
    public boolean hasLink(String a, String b) {
        for (JsonNode link : call("wg link list").path("links")) {
            String x = link.path("a").asText();
            String y = link.path("b").asText();
            if ((x.equals(a) && y.equals(b)) || (x.equals(b) && y.equals(a))) {
                return true;
            }
        }
        return false;
    }

    /** The addresses of the etcd members this relay has an established TCP connection to now. */
    public Set<String> etcdConnections() {
        String out = ns.exec(
                        Duration.ofSeconds(10),
                        Prerequisites.which("ss"),
                        "-Htn",
                        "state",
                        "established",
                        "( dport = :" + EtcdCluster.CLIENT_PORT + " )")
                .stdout();
        Set<String> peers = new TreeSet<>();
        for (String line : out.split("\n")) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length >= 4) {
                // Recv-Q Send-Q Local:Port Peer:Port (state omitted by the filter)
                String peer = fields[fields.length - 1];
                peers.add(peer.substring(0, peer.lastIndexOf(':'))
                        .replace("[", "")
                        .replace("]", "")
                        .replace("::ffff:", ""));
            }
        }
        return peers;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String output() {
        return process.output();
    }

    /** SIGKILL: the relay process dies as in a crash. */
    public void kill() {
        ProcessHandle.of(process.pid()).ifPresent(h -> {
            h.destroyForcibly();
            h.onExit().join();
        });
    }

    @Override
    public void close() {
        process.close();
    }

    @Override
    public String toString() {
        return id + " " + process;
    }
}
