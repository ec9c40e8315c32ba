package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.UdpSnmp;

/**
 * The namespaces every XDP test runs in, and what it takes to run the relay's fast path there.
 *
 * <pre>
 *   [alice ns]                     [relay ns]                              [bob ns]
 *   veth a 10.250.1.2 ------------ ra 10.250.1.1 | rb 10.250.2.1 -------- b 10.250.2.2 veth
 *   (wg_relay_pass)                (wg_relay_xdp on both, from the relay)   (wg_relay_pass)
 * </pre>
 *
 * <p>The relay namespace does not route between its subnets, so whatever reaches the far side
 * was forwarded by the relay, in the kernel or in userspace. The far ends carry the object's
 * no-op {@code wg_relay_pass}: a veth delivers the frames its peer sends with {@code XDP_TX} or
 * redirect only while it runs an XDP program itself (docs/xdp.md). Those programs go with the
 * namespaces.
 */
public final class XdpRig implements AutoCloseable {

    static final int RELAY_PORT = 51820;
    static final String RELAY_A = "10.250.1.1";
    static final String RELAY_B = "10.250.2.1";
    static final String ALICE = "10.250.1.2";
    static final String BOB = "10.250.2.2";
    static final Duration RELAY_STARTUP = Duration.ofSeconds(60);

    /** {@code ip link} shows an attached program as a {@code prog/xdp} line and an xdp flag. */
    private static final Pattern XDP_ON_LINK = Pattern.compile("prog/xdp|\\bxdp(generic|drv|offload)?\\b");

    final Topology topology;
    final Netns relayNs;
    final Netns aliceNs;
    final Netns bobNs;
    final String relayIfA;
    final String relayIfB;
    final String aliceIf;
    final String bobIf;

    private XdpRig(Topology topology, Topology.RelayBetween ns) {
        this.topology = topology;
        this.relayNs = ns.relay();
        this.aliceNs = ns.alice();
        this.bobNs = ns.bob();
        this.relayIfA = ns.relayIfA();
        this.relayIfB = ns.relayIfB();
        this.aliceIf = ns.aliceIf();
        this.bobIf = ns.bobIf();
    }

    /**
     * Skips (or under CI=true fails) unless this is root with namespaces, ip, bash, and a built
     * {@code bpf/build}; {@code wireguard} adds TUN, wg, wireguard-go and ping.
     */
    public static void enforcePrerequisites(boolean wireguard) {
        Prerequisites p = Prerequisites.check()
                .root()
                .tools("ip", "bash", "env")
                .namespaces()
                .files("run make -C bpf", helper(), object());
        if (wireguard) {
            p.tun().tools("wg", "wireguard-go", "ping");
        }
        p.enforce();
    }

    /** Creates the three namespaces and both veth pairs, with the no-op program on the far ends. */
    static XdpRig create() {
        Topology topology = Topology.create();
        try {
            XdpRig rig = new XdpRig(topology, topology.relayBetween(RELAY_A, ALICE, RELAY_B, BOB));
            rig.attachPassProgram(rig.aliceNs, rig.aliceIf);
            rig.attachPassProgram(rig.bobNs, rig.bobIf);
            return rig;
        } catch (RuntimeException e) {
            topology.close();
            throw e;
        }
    }

    /** The repository root: the nearest directory up from here that holds {@code bpf/wg_relay_abi.h}. */
    static Path projectDir() {
        String home = System.getProperty("wg-relay.home");
        if (home != null && !home.isBlank()) {
            return Path.of(home).toAbsolutePath();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("bpf/wg_relay_abi.h"))) {
                return dir;
            }
        }
        return Path.of("").toAbsolutePath();
    }

    static Path helper() {
        return projectDir().resolve("bpf/build/wg-relay-xdp-helper");
    }

    public static Path object() {
        return projectDir().resolve("bpf/build/wg_relay.bpf.o");
    }

    /** Where the relay finds the helper and the BPF object (XdpLauncher's environment variables). */
    public static Map<String, String> helperEnv() {
        return Map.of("WG_RELAY_XDP_HELPER", helper().toString(), "WG_RELAY_XDP_OBJECT", object().toString());
    }

    /** The argv prefix that runs a command with {@link #helperEnv()} (for runs that use {@link Command}). */
    static List<String> withHelperEnv(List<String> argv) {
        List<String> full = new ArrayList<>();
        full.add(Prerequisites.which("env"));
        helperEnv().forEach((k, v) -> full.add(k + "=" + v));
        full.addAll(argv);
        return full;
    }

    /** {@code uname -r}, as the attach lines report it. */
    static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code ip link set dev NIC xdpdrv object wg_relay.bpf.o section xdp program wg_relay_pass}. */
    void attachPassProgram(Netns ns, String nic) {
        ns.ip(
                "link",
                "set",
                "dev",
                nic,
                "xdpdrv",
                "object",
                object().toString(),
                "section",
                "xdp",
                "program",
                "wg_relay_pass");
    }

    /** A roster file in the scratch directory with these lines. */
    Path roster(String... lines) {
        Path roster = topology.workDir().resolve("wg-roster-" + System.nanoTime());
        try {
            Files.writeString(roster, String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return roster;
    }

    /**
     * Starts the relay on {@link #RELAY_PORT} in the relay namespace with the helper's environment,
     * one worker and {@code extraArgs} (the {@code --xdp-*} options). Not adopted: the caller stops it
     * and checks what it left, though the namespace's teardown would kill it anyway.
     */
    RelayProcess startRelay(Path roster, String... extraArgs) {
        return RelayProcess.start(relayNs, "0.0.0.0", RELAY_PORT, roster, 1, RELAY_STARTUP, helperEnv(), extraArgs);
    }

    /** {@link #startRelay} with the fast path on both relay veths, attached in {@code mode} (drv, skb, auto). */
    RelayProcess startRelayOnBothVeths(Path roster, String mode) {
        return startRelay(roster, "--xdp-interface", relayIfA + "," + relayIfB, "--xdp-mode", mode);
    }

    /** A UDP socket at {@code ip:port} in {@code ns}, adopted by the topology. */
    UdpAgent udpAgent(Netns ns, String ip, int port) {
        return topology.adopt(UdpAgent.start(ns, ip, port));
    }

    /** The lines of {@code ip -d link show dev NIC} that show an XDP program (empty when none). */
    List<String> xdpOn(Netns ns, String nic) {
        String text = ns.ip("-d", "link", "show", "dev", nic).stdout();
        return text.lines()
                .filter(l -> XDP_ON_LINK.matcher(l).find())
                .map(String::strip)
                .toList();
    }

    /** Whether {@code ip link show dev NIC} shows generic (skb) XDP. */
    boolean genericXdpOn(Netns ns, String nic) {
        return ns.ip("link", "show", "dev", nic).stdout().contains("xdpgeneric");
    }

    /** Waits until neither relay veth shows an XDP program. */
    void awaitNoXdpOnRelayVeths(Duration timeout, String why) {
        Await.until(
                timeout,
                "no XDP program on " + relayIfA + " and " + relayIfB + " " + why,
                () -> xdpOn(relayNs, relayIfA).isEmpty()
                        && xdpOn(relayNs, relayIfB).isEmpty(),
                () -> relayNs.ip("-d", "link", "show").stdout());
    }

    /** The pids still living in the relay namespace (the relay JVM and its helper, while they run). */
    List<String> processesInRelayNs() {
        Command.Result pids = Command.run(
                Duration.ofSeconds(20), List.of(Prerequisites.which("ip"), "netns", "pids", relayNs.name()));
        return pids.stdout()
                .lines()
                .map(String::strip)
                .filter(l -> !l.isEmpty())
                .map(pid -> pid + " "
                        + ProcessHandle.of(Long.parseLong(pid))
                                .flatMap(h -> h.info().commandLine())
                                .orElse("?"))
                .toList();
    }

    /**
     * {@code Udp: InDatagrams} of the relay namespace: datagrams the kernel delivered to a UDP
     * socket there. Only the relay's port receives UDP in that namespace, so this counts what
     * the fast path passed up; frames it forwarded or dropped never reach the stack.
     */
    long udpInDatagrams() {
        return UdpSnmp.field(
                relayNs.exec(Duration.ofSeconds(20), "cat", "/proc/net/snmp").stdout(), "InDatagrams");
    }

    /**
     * {@code Udp: RcvbufErrors} of bob's namespace: datagrams that reached bob's host but found
     * the test's receiving socket full (the receiver fell behind, not the relay).
     */
    long bobReceiveBufferErrors() {
        return UdpSnmp.field(
                bobNs.exec(Duration.ofSeconds(20), "cat", "/proc/net/snmp").stdout(), "RcvbufErrors");
    }

    /**
     * SIGTERM to {@code relay}, then what a clean stop must leave: exit 0 (SPEC), no program on
     * either relay veth (the helper detaches them on its way out), and no process in the relay
     * namespace (the helper goes with the relay).
     */
    void assertStopsCleanly(RelayProcess relay) {
        assertEquals(0, relay.stop(), "wg-relay must exit 0 on SIGTERM; output:\n" + relay.output());
        awaitNoXdpOnRelayVeths(Duration.ofSeconds(10), "after the relay stopped");
        assertEquals(List.of(), processesInRelayNs(), "processes left in the relay namespace");
    }

    /**
     * The teardown of a class that shares one relay: {@link #assertStopsCleanly} (when the relay
     * was started), then the namespaces go whatever that found, then nothing of this run may be left.
     */
    void closeStopping(RelayProcess relay) {
        try {
            if (relay != null) {
                assertStopsCleanly(relay);
            }
        } finally {
            close();
        }
        topology.assertNothingLeft();
    }

    @Override
    public void close() {
        topology.close();
    }
}
