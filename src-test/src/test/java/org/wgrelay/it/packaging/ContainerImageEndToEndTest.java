package org.wgrelay.it.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.TestFiles;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardTunnel;

/**
 * The container image for real: built from this checkout by {@code scripts/build-image.sh} (on a
 * Debian base made with debootstrap, so no registry is needed), run with host networking inside a
 * network namespace, configured only through {@code WG_RELAY_*} variables, as its non-root user
 * with every capability dropped, and driven with {@code wg-relay ctl} inside the container.
 *
 * <pre>
 *   [alice ns]                       [relay ns]                        [bob ns]
 *   wg 10.233.0.1/24                 container, --network host         wg 10.233.0.2/24
 *   veth 10.231.1.2 ---------------- 10.231.1.1 | 10.231.2.1 --------- 10.231.2.2 veth
 * </pre>
 *
 * <p>Two stock WireGuard peers (wireguard-go) tunnel through it (ping and a SHA-256-checked
 * transfer); the roster on the named volume survives the container being stopped and replaced;
 * {@code podman stop} (SIGTERM) ends it with exit status 0. Needs root, podman, runc, debootstrap
 * and the WireGuard tools; skips without them, except under CI=true.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerImageEndToEndTest {

    private static final String IMAGE = "localhost/wg-relay:it";
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration STARTUP = Duration.ofSeconds(90);
    private static final Duration CTL = Duration.ofSeconds(60);
    private static final int RELAY_PORT = 51820;
    private static final int PEER_PORT = 51000;
    private static final String RELAY_ON_ALICE_SIDE = "10.231.1.1";
    private static final String RELAY_ON_BOB_SIDE = "10.231.2.1";
    private static final String ALICE_UNDERLAY = "10.231.1.2";
    private static final String BOB_UNDERLAY = "10.231.2.2";
    private static final int TRANSFER_BYTES = 16 << 20;
    private static final int TRANSFER_TIMEOUT_SECONDS = 90;
    private static final Pattern METRIC = Pattern.compile("(?m)^(wgrelay_[a-z_]+)(\\{[^}]*\\})? ([0-9.eE+-]+)$");

    private static Podman podman;
    private static Topology topology;
    private static Topology.RelayBetween ns;
    private static String volume;
    private static Container relay;
    private static WireGuardTunnel tunnel;

    /** A {@code podman run} in the foreground: its output is the container's, its exit status too. */
    private record Container(String name, ChildProcess run, String startupLine) {}

    @BeforeAll
    static void buildTheImageAndStartItWithTwoWireGuardPeers() throws IOException {
        Prerequisites.check()
                .root()
                .tun()
                .namespaces()
                .tools("ip", "wg", "wireguard-go", "ping", "podman", "runc", "debootstrap", "nsenter")
                .enforce();
        assertTrue(Podman.repositoryHasDockerfile(), "no Dockerfile in " + Podman.REPO);
        podman = Podman.fromEnvironment();
        buildImage();

        topology = Topology.create();
        volume = "wgr-" + topology.suffix() + "-state";
        ns = topology.relayBetween(RELAY_ON_ALICE_SIDE, ALICE_UNDERLAY, RELAY_ON_BOB_SIDE, BOB_UNDERLAY);
        // Closed after the containers (adopted later), before the namespaces.
        topology.adopt(ContainerImageEndToEndTest::removeContainersAndVolume);

        relay = startContainer("relay1");
        System.out.println("container 1: " + relay.startupLine());
        assertTrue(
                relay.startupLine().contains("peers=0 links=0"),
                "a fresh volume holds no roster: " + relay.startupLine());
        ctl("wg", "peer", "add", "alice", ALICE_UNDERLAY + ":" + PEER_PORT);
        ctl("wg", "peer", "add", "bob", BOB_UNDERLAY + ":" + PEER_PORT);
        ctl("wg", "link", "add", "alice", "bob");

        tunnel = WireGuardTunnel.start(
                topology,
                PEER_PORT,
                new WireGuardTunnel.End(ns.alice(), "10.233.0.1/24", RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT),
                new WireGuardTunnel.End(ns.bob(), "10.233.0.2/24", RELAY_ON_BOB_SIDE + ":" + RELAY_PORT));
    }

    @AfterAll
    static void stopEverythingAndLeaveNothingBehind() {
        if (topology == null) {
            return; // skipped before anything was created
        }
        OptionalInt relayExit = OptionalInt.empty();
        String relayOutput = "";
        try {
            if (relay != null && relay.run().isAlive()) {
                relayExit = stopContainer(relay);
                relayOutput = relay.run().output();
            }
        } finally {
            topology.close();
        }
        topology.assertNothingLeft();
        Command.Result volumes = podman.run(Duration.ofSeconds(30), "volume", "ls", "-q");
        assertFalse(volumes.stdout().contains(volume), "volume left behind: " + volume);
        if (relayExit.isPresent()) {
            assertEquals(0, relayExit.getAsInt(), "the container must exit 0 on SIGTERM:\n" + relayOutput);
        }
    }

    @Test
    @Order(1)
    void runsAsItsOwnUserWithNoCapabilitiesAtAll() {
        String status = exec("cat", "/proc/1/status");
        assertTrue(
                status.matches("(?s).*\\nUid:\\s+10001\\s+10001\\s+10001\\s+10001\\n.*"),
                "PID 1 of the container must run as wg-relay (uid 10001):\n" + status);
        for (String set : List.of("CapPrm", "CapEff", "CapBnd", "CapAmb")) {
            assertTrue(status.contains(set + ":\t0000000000000000"), set + " must be empty:\n" + status);
        }
        assertTrue(status.contains("NoNewPrivs:\t1"), "no-new-privileges must hold:\n" + status);
    }

    @Test
    @Order(2)
    void twoWireGuardPeersPingAndTransferThroughTheContainer() throws Exception {
        awaitTunnel();
        Command.Result ping = tunnel.ping(5, "0.2");
        assertTrue(
                ping.succeeded() && ping.stdout().contains(" 5 received"),
                "5 of 5 pings must cross the tunnel: " + ping.describe() + "\n" + diagnostics());
        assertEquals(
                RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT,
                tunnel.alice().endpointOf(tunnel.bob().publicKey()).orElse(null),
                "alice's endpoint for bob must stay the relay\n" + diagnostics());

        WireGuardTunnel.Transfer transfer =
                tunnel.transfer(TRANSFER_BYTES, TRANSFER_TIMEOUT_SECONDS, ContainerImageEndToEndTest::diagnostics);
        assertEquals(
                TestFiles.sha256(transfer.sent()),
                TestFiles.sha256(transfer.received()),
                "SHA-256 of sent and received data (seed " + transfer.seed() + ")");

        // The same numbers on the metrics listener (SPEC default 127.0.0.1:9108, in the relay's namespace).
        String metrics = scrape();
        assertEquals(2.0, metric(metrics, "wgrelay_peers", ""), "wgrelay_peers\n" + metrics);
        assertEquals(1.0, metric(metrics, "wgrelay_links", ""), "wgrelay_links\n" + metrics);
        double forwarded = metric(metrics, "wgrelay_forwarded_packets_total", "");
        assertTrue(forwarded > TRANSFER_BYTES / 1500.0, "forwarded packets after the transfer: " + forwarded);
        String config = ctl("wg", "show", "config", "alice", RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT);
        assertTrue(config.contains("Endpoint = " + RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT), config);
    }

    @Test
    @Order(3)
    void sigtermExitsZeroAndTheRosterOnTheVolumeSurvivesANewContainer() {
        Container first = relay;
        long stopping = System.nanoTime();
        OptionalInt exit = stopContainer(first);
        assertEquals(
                OptionalInt.of(0),
                exit,
                "podman stop (SIGTERM) must end the relay with status 0:\n"
                        + first.run().output());
        assertFalse(
                first.run().output().contains("Exception"),
                "clean shutdown:\n" + first.run().output());

        relay = startContainer("relay2");
        System.out.printf(
                "container 2 after a %.1f s gap: %s%n", (System.nanoTime() - stopping) / 1e9, relay.startupLine());
        assertTrue(
                relay.startupLine().contains("peers=2 links=1"),
                "the roster on the volume must come back: " + relay.startupLine());
        String roster = exec("cat", "/var/lib/wg-relay/wg-roster");
        assertTrue(roster.contains("link alice bob"), roster);
        // The peers' sessions outlive the relay: traffic flows again without any reconfiguration.
        awaitTunnel();
    }

    @Test
    @Order(4)
    void refusesToStartWithAPublicControlListenerAndNoToken() {
        Command.Result refused = podman.run(
                STARTUP,
                "run",
                "--rm",
                "--network",
                "none",
                "--cap-drop",
                "ALL",
                "-e",
                "WG_RELAY_CONTROL=0.0.0.0:51821",
                IMAGE);
        assertEquals(1, refused.exitCode(), refused.describe());
        assertTrue(refused.stderr().contains("refusing to listen for control on non-loopback"), refused.describe());
    }

    @Test
    @Order(5)
    void xdpFastPathAttachesWithNetAdminAndBpfOnly() throws IOException {
        Command.Result helper = podman.run(
                CTL,
                "run",
                "--rm",
                "--network",
                "none",
                "--entrypoint",
                "test",
                IMAGE,
                "-x",
                "/opt/wg-relay/bpf/build/wg-relay-xdp-helper");
        assertEquals(
                0,
                helper.exitCode(),
                "the image must ship the XDP helper (did `make -C bpf` fail " + "in the build stage?) "
                        + helper.describe());
        Container userspace = relay;
        assertEquals(
                OptionalInt.of(0), stopContainer(userspace), userspace.run().output());

        String ra = ns.relayIfA();
        String rb = ns.relayIfB();
        relay = startContainer(
                "relay3",
                List.of(
                        "--cap-add",
                        "NET_ADMIN",
                        "--cap-add",
                        "BPF",
                        "--security-opt",
                        "seccomp=" + seccompProfileAllowingBpf(),
                        "-e",
                        "WG_RELAY_XDP_INTERFACE=" + ra + "," + rb,
                        "-e",
                        "WG_RELAY_XDP_MODE=skb"));
        System.out.println("container 3: " + relay.startupLine());
        assertTrue(
                relay.startupLine().contains("xdp=skb"),
                relay.startupLine() + "\n" + relay.run().output());
        awaitTunnel();
        Command.Result ping = tunnel.ping(20, "0.05");
        assertTrue(ping.succeeded() && ping.stdout().contains(" 20 received"), ping.describe() + diagnostics());
        String show = ctl("--json", "wg", "show");
        Matcher fwd = Pattern.compile("\"xdp_fwd_packets\"\\s*:\\s*(\\d+)").matcher(show);
        assertTrue(
                fwd.find() && Long.parseLong(fwd.group(1)) >= 20,
                "the tunnel's transport data must ride the kernel: " + show);

        Container xdp = relay;
        assertEquals(
                OptionalInt.of(0),
                stopContainer(xdp),
                "SIGTERM with XDP attached:\n" + xdp.run().output());
        for (String nic : List.of(ra, rb)) {
            String link = ns.relay().ip("link", "show", nic).stdout();
            assertFalse(link.contains("xdp"), "the program must be detached from " + nic + ":\n" + link);
        }
    }

    /**
     * podman's default seccomp profile with bpf(2) allowed for CAP_BPF, as Docker's own default
     * profile does; Debian 12's allows it only with CAP_SYS_ADMIN and answers EPERM otherwise.
     */
    private static Path seccompProfileAllowingBpf() throws IOException {
        Path base = Path.of("/usr/share/containers/seccomp.json");
        if (!Files.isRegularFile(base)) {
            base = Path.of("/etc/containers/seccomp.json");
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode profile = (ObjectNode) json.readTree(base.toFile());
        ArrayNode syscalls = (ArrayNode) profile.get("syscalls");
        // Its explicit EPERM rule for both (without CAP_SYS_ADMIN) would override an allow rule.
        for (JsonNode rule : syscalls) {
            if ("SCMP_ACT_ERRNO".equals(rule.path("action").asText())) {
                ArrayNode names = (ArrayNode) rule.get("names");
                for (int i = names.size() - 1; i >= 0; i--) {
                    String name = names.get(i).asText();
                    if (name.equals("bpf")) {
                        names.remove(i);
                    }
                }
            }
        }
        for (String[] rule : new String[][] {{"bpf", "CAP_BPF"}}) {
            ObjectNode allow = syscalls.addObject();
            allow.putArray("names").add(rule[0]);
            allow.put("action", "SCMP_ACT_ALLOW");
            allow.putObject("includes").putArray("caps").add(rule[1]);
        }
        Path file = topology.workDir().resolve("seccomp-xdp.json");
        json.writeValue(file.toFile(), profile);
        return file;
    }

    private static void buildImage() {
        long start = System.nanoTime();
        Command.Result build = Command.check(
                BUILD_TIMEOUT,
                List.of(Podman.REPO.resolve("scripts/build-image.sh").toString(), "--local-base", "--tag", IMAGE));
        System.out.printf(
                "image %s built in %.1f s (%s)%n", IMAGE, (System.nanoTime() - start) / 1e9, lastLine(build.stdout()));
    }

    /** The userspace path: every capability dropped, no-new-privileges. */
    private static Container startContainer(String role) {
        return startContainer(role, List.of("--security-opt", "no-new-privileges"));
    }

    private static Container startContainer(String role, List<String> options) {
        String name = "wgr-" + topology.suffix() + "-" + role;
        List<String> args = new ArrayList<>(List.of(
                "run",
                "--rm",
                "--name",
                name,
                "--network",
                "host",
                "--cap-drop",
                "ALL",
                "-v",
                volume + ":/var/lib/wg-relay",
                "-e",
                "WG_RELAY_PORT=" + RELAY_PORT,
                "-e",
                "WG_RELAY_WORKERS=2",
                "-e",
                "WG_RELAY_JAVA_OPTS=-Xmx256m -XX:+ExitOnOutOfMemoryError"));
        args.addAll(options);
        args.add(IMAGE);
        ChildProcess run =
                topology.adopt(ChildProcess.start("container " + name, podman.inNetworkOf(ns.relay(), args), Map.of()));
        String line = run.awaitLine(l -> l.contains(RelayProcess.STARTUP_PREFIX), STARTUP);
        return new Container(name, run, line);
    }

    /** {@code podman stop}: SIGTERM, then SIGKILL after 30 s; returns the foreground run's status. */
    private static OptionalInt stopContainer(Container container) {
        podman.run(Duration.ofSeconds(60), "stop", "--time", "30", container.name());
        return container.run().awaitExit(Duration.ofSeconds(30));
    }

    private static void removeContainersAndVolume() {
        for (String role : List.of("relay1", "relay2", "relay3")) {
            podman.run(Duration.ofSeconds(60), "rm", "--force", "--time", "5", "wgr-" + topology.suffix() + "-" + role);
        }
        podman.run(Duration.ofSeconds(60), "volume", "rm", "--force", volume);
    }

    /** {@code wg-relay ctl ARGS} inside the running container; its stdout. */
    private static String ctl(String... args) {
        List<String> argv = new ArrayList<>(List.of("wg-relay", "ctl"));
        argv.addAll(List.of(args));
        return exec(argv.toArray(String[]::new));
    }

    /**
     * {@code podman exec} in the relay's namespace: a host-network container has no network
     * namespace of its own for exec to join, so the exec'd command inherits podman's. On a real
     * host that is the host's, here it must be the relay namespace, where the control port is.
     */
    private static String exec(String... command) {
        List<String> args = new ArrayList<>(List.of("exec", relay.name()));
        args.addAll(List.of(command));
        return Command.check(CTL, podman.inNetworkOf(ns.relay(), args)).stdout();
    }

    /** GET /metrics from the relay's namespace (bash's /dev/tcp: no HTTP client in the namespace). */
    private static String scrape() {
        Command.Result get = Command.check(
                Duration.ofSeconds(30),
                List.of(
                        Prerequisites.which("nsenter"),
                        "--net=/run/netns/" + ns.relay().name(),
                        "bash",
                        "-c",
                        "exec 3<>/dev/tcp/127.0.0.1/9108 && printf 'GET /metrics HTTP/1.0\\r\\nHost: relay\\r\\n\\r\\n' >&3"
                                + " && cat <&3"));
        return get.stdout();
    }

    private static double metric(String text, String name, String labels) {
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(name) && (m.group(2) == null ? "" : m.group(2)).equals(labels)) {
                return Double.parseDouble(m.group(3));
            }
        }
        throw new AssertionError("no " + name + labels + " in /metrics:\n" + text);
    }

    private static void awaitTunnel() {
        tunnel.awaitPing(
                Duration.ofSeconds(30),
                "a ping from alice to bob through the container",
                ContainerImageEndToEndTest::diagnostics);
    }

    private static String diagnostics() {
        return "--- " + relay.name() + (relay.run().isAlive() ? " (running)" : " (exited)") + " output:\n"
                + relay.run().output()
                + tunnel.describe();
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }
}
