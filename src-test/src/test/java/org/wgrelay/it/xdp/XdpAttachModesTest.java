package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.xdp.XdpRig.ALICE;
import static org.wgrelay.it.xdp.XdpRig.BOB;
import static org.wgrelay.it.xdp.XdpRig.RELAY_A;
import static org.wgrelay.it.xdp.XdpRig.RELAY_B;
import static org.wgrelay.it.xdp.XdpRig.RELAY_PORT;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayControl.Counters;
import org.wgrelay.it.netns.RelayProcess;

/**
 * {@code --xdp-mode} and {@code --xdp-interface} as an operator meets them: what each mode
 * attaches and reports (startup line, SPEC's {@code xdp_attached} lines, {@code wg show},
 * {@code ip link}), how a failed attach or a bad mode refuses the start, and that a relay that
 * stops — by SIGTERM, or killed outright — leaves no program on its NICs.
 *
 * <p>One topology for the class; each test starts its own relay and stops it.
 */
class XdpAttachModesTest {

    private static final int PEER_PORT = 40001;
    private static final Duration REFUSAL = Duration.ofSeconds(60);
    private static final Duration DETACH = Duration.ofSeconds(10);
    private static final Set<String> NO_PROBES = Set.of();

    private static XdpRig rig;
    private static Path roster;
    private static UdpAgent alice;
    private static UdpAgent bob;
    private static final WgPayloads WG = new WgPayloads(42);

    private RelayProcess relay;

    @BeforeAll
    static void createTopology() {
        XdpRig.enforcePrerequisites(false);
        rig = XdpRig.create();
        roster = rig.roster(
                "peer alice " + ALICE + ":" + PEER_PORT, "peer bob " + BOB + ":" + PEER_PORT, "link alice bob");
        alice = rig.udpAgent(rig.aliceNs, ALICE, PEER_PORT);
        bob = rig.udpAgent(rig.bobNs, BOB, PEER_PORT);
    }

    @AfterEach
    void stopTheRelayIfATestLeftItRunning() {
        if (relay != null && relay.isAlive()) {
            relay.stop();
        }
        alice.drain();
        bob.drain();
    }

    @AfterAll
    static void leaveNothingBehind() {
        if (rig == null) {
            return;
        }
        rig.close();
        rig.topology.assertNothingLeft();
    }

    @Test
    void skbModeAttachesGenericXdpReportsSkbAndForwardsInTheKernel() {
        relay = rig.startRelayOnBothVeths(roster, "skb");
        assertStartupSays("skb");
        for (String nic : List.of(rig.relayIfA, rig.relayIfB)) {
            assertAttachLine(nic, "skb");
            assertTrue(rig.genericXdpOn(rig.relayNs, nic), "ip link must show xdpgeneric on " + nic);
        }
        RelayControl control = RelayControl.of(relay, rig.relayNs);
        assertEquals("skb", control.show().json().path("xdp_mode").asText());
        assertForwardsInTheKernel(control);
        rig.assertStopsCleanly(relay);
    }

    @Test
    void autoModeOnVethsAttachesNatively() {
        relay = rig.startRelayOnBothVeths(roster, "auto");
        assertStartupSays("drv");
        for (String nic : List.of(rig.relayIfA, rig.relayIfB)) {
            assertAttachLine(nic, "drv");
            assertFalse(rig.genericXdpOn(rig.relayNs, nic), nic + " must run native XDP");
        }
        assertFalse(relay.output().contains("xdp auto mode on"), "no fallback on a veth:\n" + relay.output());
        RelayControl control = RelayControl.of(relay, rig.relayNs);
        assertEquals("drv", control.show().json().path("xdp_mode").asText());
        assertForwardsInTheKernel(control);
        rig.assertStopsCleanly(relay);
    }

    @Test
    void autoModeFallsBackToSkbWhereNativeXdpIsMissingAndLogsWhy() {
        String bridge = bridge();
        relay = rig.startRelay(roster, "--xdp-interface", bridge, "--xdp-mode", "auto");
        assertStartupSays("skb");
        assertAttachLine(bridge, "skb");
        assertTrue(
                relay.output().contains("xdp auto mode on " + bridge + ": native attach failed (drv:"),
                "the fallback must be logged with drv's reason:\n" + relay.output());
        assertTrue(rig.genericXdpOn(rig.relayNs, bridge), "ip link must show xdpgeneric on " + bridge);
        assertEquals(
                "skb",
                RelayControl.of(relay, rig.relayNs)
                        .show()
                        .json()
                        .path("xdp_mode")
                        .asText());
        assertEquals(0, relay.stop(), relay.output());
        awaitNoXdpOn(bridge);
        assertEquals(List.of(), rig.processesInRelayNs(), "processes left in the relay namespace");
    }

    @Test
    void mixedModesReportTheSlowerModeWhateverTheOrderOfTheInterfaces() {
        String bridge = bridge();
        relay = rig.startRelay(roster, "--xdp-interface", bridge + "," + rig.relayIfA, "--xdp-mode", "auto");
        assertAttachLine(bridge, "skb");
        assertAttachLine(rig.relayIfA, "drv");
        assertStartupSays("skb");
        assertEquals(
                "skb",
                RelayControl.of(relay, rig.relayNs)
                        .show()
                        .json()
                        .path("xdp_mode")
                        .asText());
    }

    @Test
    void offModeWithAnInterfaceAttachesNothingAndForwardsInUserspace() {
        relay = rig.startRelayOnBothVeths(roster, "off");
        assertStartupSays("off");
        assertTrue(
                rig.xdpOn(rig.relayNs, rig.relayIfA).isEmpty()
                        && rig.xdpOn(rig.relayNs, rig.relayIfB).isEmpty(),
                rig.relayNs.ip("-d", "link", "show").stdout());
        assertTrue(
                rig.processesInRelayNs().stream().noneMatch(p -> p.contains("wg-relay-xdp-helper")),
                "no helper may run with --xdp-mode off: " + rig.processesInRelayNs());
        RelayControl control = RelayControl.of(relay, rig.relayNs);
        Counters before = control.show();
        assertFalse(
                before.json().path("xdp_attached").asBoolean(true),
                before.json().toString());
        assertEquals(
                "off", before.json().path("xdp_mode").asText(), before.json().toString());
        for (String key : List.of("xdp_rx_packets", "xdp_fwd_packets", "xdp_pass_no_peer", "xdp_pass_no_mac")) {
            assertFalse(before.json().has(key), key + " must be absent with XDP off: " + before.json());
        }
        long upBefore = rig.udpInDatagrams();
        Traffic.relayed(alice, RELAY_A, WG.transports(3), bob, RELAY_B, NO_PROBES);
        Traffic.relayed(bob, RELAY_B, WG.transports(3), alice, RELAY_A, NO_PROBES);
        control.awaitShow(Duration.ofSeconds(20), "fwd_packets +6", c -> c.since(before, "fwd_packets") == 6);
        assertEquals(6, rig.udpInDatagrams() - upBefore, "userspace sees every datagram with XDP off");
        rig.assertStopsCleanly(relay);
    }

    @Test
    void aMissingInterfaceRefusesTheStartWithOneXdpAttachFailedLine() {
        String missing = rig.topology.interfaceName("zz");
        Command.Result run = refusedStart("--xdp-interface", missing);
        assertNotEquals(0, run.exitCode(), run.describe());
        List<String> stderr = run.stderr().lines().toList();
        assertEquals(1, stderr.size(), "exactly one line on stderr: " + run.describe());
        Pattern line = Pattern.compile("xdp_attach_failed iface=" + missing + " ifindex=0 mode=drv driver=\\?"
                + " kernel=" + Pattern.quote(XdpRig.kernelRelease()) + " reason=No such device");
        assertTrue(line.matcher(stderr.get(0)).matches(), "the failed attach line: " + stderr.get(0));
        assertFalse(run.stdout().contains(RelayProcess.STARTUP_PREFIX), run.describe());
    }

    @Test
    void aMissingSecondInterfaceRefusesTheStartAndUndoesTheFirstAttach() {
        String missing = rig.topology.interfaceName("zz");
        Command.Result run = refusedStart("--xdp-interface", rig.relayIfA + "," + missing, "--xdp-mode", "skb");
        assertNotEquals(0, run.exitCode(), run.describe());
        List<String> stderr = run.stderr().lines().toList();
        assertEquals(1, stderr.size(), "exactly one line on stderr: " + run.describe());
        assertTrue(
                stderr.get(0).startsWith("xdp_attach_failed iface=" + missing + " ifindex=0 mode=skb "),
                run.describe());
        assertEquals(List.of(), rig.xdpOn(rig.relayNs, rig.relayIfA), "the first NIC's attach must be undone");
        assertEquals(List.of(), rig.processesInRelayNs(), "nothing may keep running after a refused start");
    }

    @Test
    void anInvalidModeRefusesTheStartWithOneClearLine() {
        Command.Result run = refusedStart("--xdp-interface", bothVeths(), "--xdp-mode", "turbo");
        assertNotEquals(0, run.exitCode(), run.describe());
        List<String> stderr = run.stderr().lines().toList();
        assertEquals(1, stderr.size(), "exactly one line on stderr: " + run.describe());
        assertTrue(
                stderr.get(0).contains("--xdp-mode")
                        && stderr.get(0).contains("turbo")
                        && stderr.get(0).contains("drv, skb, auto or off"),
                run.describe());
        assertFalse(run.stdout().contains(RelayProcess.STARTUP_PREFIX), run.describe());
        assertEquals(List.of(), rig.xdpOn(rig.relayNs, rig.relayIfA));
    }

    @Test
    void aKilledRelayLeavesNoProgramAttached() {
        relay = rig.startRelayOnBothVeths(roster, "drv");
        assertFalse(rig.xdpOn(rig.relayNs, rig.relayIfA).isEmpty(), "attached before the kill");
        List<ProcessHandle> helpers = ProcessHandle.of(relay.pid())
                .orElseThrow()
                .children()
                .filter(p -> p.info()
                        .command()
                        .map(c -> c.endsWith("wg-relay-xdp-helper"))
                        .orElse(false))
                .toList();
        assertEquals(1, helpers.size(), "the relay runs one helper: " + rig.processesInRelayNs());

        // SIGKILL the JVM alone: its pipes close, and the helper must detach and exit by itself.
        ProcessHandle.of(relay.pid()).orElseThrow().destroyForcibly();
        rig.awaitNoXdpOnRelayVeths(DETACH, "after the relay JVM was SIGKILLed");
        Await.until(
                DETACH,
                "the helper to exit after its JVM died",
                () -> !helpers.get(0).isAlive(),
                () -> rig.processesInRelayNs().toString());
        assertEquals(137, relay.stop(), "a SIGKILLed JVM exits 128+9");
    }

    /**
     * A helper that dies takes the program with it (its bpf_link); the relay must notice, start a
     * new helper and attach again on both veths, and say so in {@code wg show}. (Only reporting
     * detached is not enough: that holds within a second even when the restart is broken.)
     */
    @Test
    void aHelperThatDiesIsReplacedAndTheProgramReattached() {
        relay = rig.startRelayOnBothVeths(roster, "drv");
        RelayControl control = RelayControl.of(relay, rig.relayNs);
        ProcessHandle helper = helperOf(relay).orElseThrow();
        helper.destroyForcibly();
        Await.until(
                DETACH,
                "a new helper, the program back on both veths, and wg show saying xdp_attached=true",
                () -> helperOf(relay).filter(h -> h.pid() != helper.pid()).isPresent()
                        && !rig.xdpOn(rig.relayNs, rig.relayIfA).isEmpty()
                        && !rig.xdpOn(rig.relayNs, rig.relayIfB).isEmpty()
                        && control.show().json().path("xdp_attached").asBoolean(false),
                () -> control.show().json() + "\n" + relay.output());
        assertTrue(relay.output().contains("XDP helper restarted and re-attached"), relay.output());
    }

    /** The relay's XDP helper process, if one runs. */
    private static Optional<ProcessHandle> helperOf(RelayProcess relay) {
        return ProcessHandle.of(relay.pid())
                .orElseThrow()
                .children()
                .filter(p -> p.info()
                        .command()
                        .map(c -> c.endsWith("wg-relay-xdp-helper"))
                        .orElse(false))
                .findFirst();
    }

    private static String bothVeths() {
        return rig.relayIfA + "," + rig.relayIfB;
    }

    /** A bridge in the relay namespace (no native XDP there), created once, with an IPv4 address. */
    private static String bridge() {
        String bridge = rig.topology.interfaceName("br");
        if (rig.relayNs.ip("link", "show").stdout().contains(bridge)) {
            return bridge;
        }
        Command.Result added = rig.relayNs.tryExec(
                Duration.ofSeconds(20), Prerequisites.which("ip"), "link", "add", bridge, "type", "bridge");
        Assumptions.assumeTrue(added.succeeded(), "cannot create a bridge here: " + added.describe());
        rig.relayNs.ip("addr", "add", "10.250.9.1/24", "dev", bridge);
        rig.relayNs.ip("link", "set", bridge, "up");
        return bridge;
    }

    private static void awaitNoXdpOn(String nic) {
        Await.until(
                DETACH,
                "no XDP on " + nic + " after the relay stopped",
                () -> rig.xdpOn(rig.relayNs, nic).isEmpty(),
                () -> rig.relayNs.ip("-d", "link", "show").stdout());
    }

    /** Runs {@code serve} with the helper's environment to completion; stdout and stderr apart. */
    private static Command.Result refusedStart(String... xdpArgs) {
        List<String> argv = XdpRig.withHelperEnv(RelayProcess.argv("0.0.0.0", RELAY_PORT, roster, 1, xdpArgs));
        return rig.relayNs.tryExec(REFUSAL, argv.toArray(String[]::new));
    }

    private void assertStartupSays(String mode) {
        assertTrue(relay.startupLine().contains(" xdp=" + mode + " "), "startup line: " + relay.startupLine());
    }

    private void assertAttachLine(String nic, String mode) {
        Pattern line = Pattern.compile("(^|\\s)xdp_attached iface=" + nic + " ifindex=\\d+ mode=" + mode
                + " driver=\\S+ kernel=" + Pattern.quote(XdpRig.kernelRelease()) + "$");
        assertTrue(
                relay.output().lines().anyMatch(l -> line.matcher(l).find()),
                "no xdp_attached line for " + nic + " in mode " + mode + ":\n" + relay.output());
    }

    /** After one datagram each way taught the program both MACs, the rest ride the fast path. */
    private static void assertForwardsInTheKernel(RelayControl control) {
        Counters before = control.settled();
        Traffic.relayed(alice, RELAY_A, WG.transports(1), bob, RELAY_B, NO_PROBES);
        Traffic.relayed(bob, RELAY_B, WG.transports(1), alice, RELAY_A, NO_PROBES);
        Traffic.relayed(alice, RELAY_A, WG.dataMix(10), bob, RELAY_B, NO_PROBES);
        Traffic.relayed(bob, RELAY_B, WG.dataMix(10), alice, RELAY_A, NO_PROBES);
        Counters after = control.awaitShow(
                Duration.ofSeconds(20),
                "xdp_rx_packets +22",
                c -> c.since(before, "xdp_rx_packets") >= 22 && c.get("rx_packets") == c.get("xdp_rx_packets"));
        assertEquals(22, after.since(before, "fwd_packets"), after.json().toString());
        assertTrue(
                after.since(before, "xdp_fwd_packets") >= 20,
                "the kernel forwards all but the datagrams that find no MAC: " + after.json());
    }
}
