package org.wgrelay.it.enroll;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.UdpSnmp;
import org.wgrelay.it.netns.WireGuardPeer;
import org.wgrelay.it.xdp.XdpRig;

/**
 * The fixture of the enrollment tests (SPEC E): alice and bob each behind a NAT of their own,
 * a relay that can reach only the NATs' public sides, and mallory, an attacker who can reach the
 * relay and nothing else.
 *
 * <pre>
 *  [alice] 192.168.41.2 -- .1 [alice-nat] 10.235.1.2 -- 10.235.1.1 |         | 10.235.2.1 -- 10.235.2.2 [bob-nat] .1 -- 192.168.42.2 [bob]
 *   wg 10.236.0.1                SNAT :47001                        | [relay] |                SNAT :47002               wg 10.236.0.2
 *                                                                   | 10.235.3.1 -- 10.235.3.2 [mallory]
 * </pre>
 *
 * <p>Each NAT rewrites its side's UDP to one fixed public port ({@code 10.235.1.2:47001} for
 * alice), so the endpoint the relay sees is neither the peer's address nor its listen port: an
 * endpoint the relay shows was learned from the wire, not guessed from the peer's configuration.
 * Like a real NAT, each lets in only replies to what its peer sent, unless a test has bob's NAT
 * forward his port (the peer whose endpoint the operator registers).
 * The relay namespace has no route to either home subnet and does not forward, so every tunnel
 * packet has crossed the relay's UDP port.
 *
 * <p>The relay starts on an empty roster; the tests register the peers through the shipped
 * {@code wg-relay ctl}, as an operator would. Both key pairs exist before either daemon runs, so
 * keys can be stamped first and the peers brought up later. Closing tears everything down and
 * then asserts that nothing was left behind and that the relay exited 0 on SIGTERM.
 */
final class EnrollmentNet implements AutoCloseable {

    static final int RELAY_PORT = 51820;
    /** wireguard-go's listen port on both sides, behind the NATs. */
    static final int PEER_PORT = 51000;

    static final String RELAY_ON_ALICE_SIDE = "10.235.1.1";
    static final String RELAY_ON_BOB_SIDE = "10.235.2.1";
    static final String RELAY_ON_MALLORY_SIDE = "10.235.3.1";
    static final String ALICE_NAT = "10.235.1.2";
    static final String BOB_NAT = "10.235.2.2";
    static final String MALLORY = "10.235.3.2";
    static final int ALICE_NAT_PORT = 47001;
    static final int BOB_NAT_PORT = 47002;
    /** What the relay sees of alice: her NAT's public address and the port it maps her to. */
    static final String ALICE_SEEN = ALICE_NAT + ":" + ALICE_NAT_PORT;

    static final String BOB_SEEN = BOB_NAT + ":" + BOB_NAT_PORT;

    private static final String ALICE_HOME = "192.168.41.2";
    private static final String ALICE_GATEWAY = "192.168.41.1";
    private static final String BOB_HOME = "192.168.42.2";
    private static final String BOB_GATEWAY = "192.168.42.1";
    static final String ALICE_TUNNEL = "10.236.0.1";
    static final String BOB_TUNNEL = "10.236.0.2";

    private static final Duration RELAY_STARTUP = Duration.ofSeconds(90);
    private static final Duration POLL_PAUSE = Duration.ofMillis(500);
    private static final Duration COMMAND = Duration.ofSeconds(20);

    final Topology topology;
    final Netns relayNs;
    final Netns aliceNs;
    final Netns aliceNatNs;
    final Netns bobNs;
    final Netns bobNatNs;
    final Netns malloryNs;
    final Path roster;
    final String alicePrivateKey;
    final String alicePublicKey;
    final String bobPrivateKey;
    final String bobPublicKey;

    /** Whether the relay runs its XDP fast path on its three veths. */
    final boolean xdp;

    RelayProcess relay;
    RelayControl control;
    WireGuardPeer alice;
    WireGuardPeer bob;

    private EnrollmentNet(Topology topology, boolean bobForwardsHisPort, boolean xdp) {
        this.topology = topology;
        this.xdp = xdp;
        relayNs = topology.namespace("relay");
        aliceNs = topology.namespace("alice");
        aliceNatNs = topology.namespace("anat");
        bobNs = topology.namespace("bob");
        bobNatNs = topology.namespace("bnat");
        malloryNs = topology.namespace("mallory");
        Nat.behind(
                topology, aliceNs, "a", ALICE_HOME, aliceNatNs, "an", ALICE_GATEWAY, "ap", ALICE_NAT, ALICE_NAT_PORT);
        topology.connect(aliceNatNs, "ap", ALICE_NAT + "/24", relayNs, "ra", RELAY_ON_ALICE_SIDE + "/24");
        Nat.behind(topology, bobNs, "b", BOB_HOME, bobNatNs, "bn", BOB_GATEWAY, "bp", BOB_NAT, BOB_NAT_PORT);
        // What the relay sends to a NAT is dropped there until the peer behind it has sent
        // through it; an operator who knows bob's endpoint knows it because bob forwards it.
        if (bobForwardsHisPort) {
            Nat.forwardPort(topology, bobNatNs, "bp", BOB_NAT_PORT, BOB_HOME, PEER_PORT);
        }
        topology.connect(bobNatNs, "bp", BOB_NAT + "/24", relayNs, "rb", RELAY_ON_BOB_SIDE + "/24");
        topology.connect(relayNs, "rm", RELAY_ON_MALLORY_SIDE + "/24", malloryNs, "m", MALLORY + "/24");
        roster = topology.workDir().resolve("wg-roster");
        alicePrivateKey = WireGuardPeer.generatePrivateKey();
        alicePublicKey = WireGuardPeer.publicKeyOf(alicePrivateKey);
        bobPrivateKey = WireGuardPeer.generatePrivateKey();
        bobPublicKey = WireGuardPeer.publicKeyOf(bobPrivateKey);
    }

    /**
     * Skips (or under CI=true fails) without root and tools; builds the topology and starts the
     * relay on an empty roster. No peer is registered and no WireGuard runs yet. With {@code
     * bobForwardsHisPort} bob's NAT forwards {@link #BOB_SEEN} to him (a peer whose endpoint the
     * operator can register); without, it is as closed as alice's.
     */
    static EnrollmentNet start(boolean bobForwardsHisPort) {
        return start(bobForwardsHisPort, false);
    }

    /**
     * As {@link #start(boolean)}; with {@code xdp} the relay attaches its fast path in native
     * mode to its three veths (the far ends run the no-op pass program a veth needs to receive
     * XDP_TX and redirected frames), with one worker, and the test needs a built {@code bpf/build}.
     */
    static EnrollmentNet start(boolean bobForwardsHisPort, boolean xdp) {
        if (xdp) {
            XdpRig.enforcePrerequisites(true);
        }
        Prerequisites.check()
                .root()
                .tun()
                .tools("ip", "wg", "wireguard-go", "ping", "bash", "iptables", "sysctl")
                .namespaces()
                .enforce();
        Topology topology = Topology.create();
        try {
            EnrollmentNet net = new EnrollmentNet(topology, bobForwardsHisPort, xdp);
            if (xdp) {
                net.attachPassProgram(net.aliceNatNs, "ap");
                net.attachPassProgram(net.bobNatNs, "bp");
                net.attachPassProgram(net.malloryNs, "m");
            }
            net.startRelay();
            return net;
        } catch (RuntimeException | Error e) {
            try {
                topology.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Starts (or, after {@link #stopRelay}, restarts) the relay on {@link #roster}. */
    void startRelay() {
        if (xdp) {
            String veths = String.join(
                    ",", topology.interfaceName("ra"), topology.interfaceName("rb"), topology.interfaceName("rm"));
            relay = topology.adopt(RelayProcess.start(
                    relayNs,
                    "0.0.0.0",
                    RELAY_PORT,
                    roster,
                    1,
                    RELAY_STARTUP,
                    XdpRig.helperEnv(),
                    "--xdp-interface",
                    veths,
                    "--xdp-mode",
                    "drv"));
        } else {
            relay = topology.adopt(RelayProcess.start(relayNs, "0.0.0.0", RELAY_PORT, roster, 2, RELAY_STARTUP));
        }
        control = RelayControl.of(relay, relayNs);
    }

    /** The no-op XDP program on {@code tag}'s veth in {@code ns}. */
    private void attachPassProgram(Netns ns, String tag) {
        ns.ip(
                "link",
                "set",
                "dev",
                topology.interfaceName(tag),
                "xdpdrv",
                "object",
                XdpRig.object().toString(),
                "section",
                "xdp",
                "program",
                "wg_relay_pass");
    }

    /** SIGTERM to the relay; returns its exit code, which the SPEC requires to be 0. */
    int stopRelay() {
        return relay.stop();
    }

    /**
     * The operator registers {@code name} at {@code endpoint} ({@code -} for none) and stamps
     * its key, both through {@code wg-relay ctl}.
     */
    void register(String name, String endpoint) {
        control.ctl("wg", "peer", "add", name, endpoint);
        control.ctl("wg", "peer", "pubkey", name, name.equals("alice") ? alicePublicKey : bobPublicKey);
    }

    void link() {
        control.ctl("wg", "link", "add", "alice", "bob");
    }

    /**
     * Alice's wireguard-go comes up knowing bob behind the relay; with {@code keepalive} > 0 it has
     * a PersistentKeepalive, which makes it initiate as soon as bob is configured.
     */
    void startAlice(int keepalive) {
        startAlice(RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT, keepalive);
    }

    /** As {@link #startAlice(int)}, with bob's endpoint at {@code bobEndpoint} instead of the relay. */
    void startAlice(String bobEndpoint, int keepalive) {
        alice = topology.adopt(WireGuardPeer.start(
                aliceNs,
                topology.interfaceName("wa"),
                PEER_PORT,
                ALICE_TUNNEL + "/24",
                topology.workDir(),
                alicePrivateKey));
        configure(alice, bobPublicKey, bobEndpoint, BOB_TUNNEL, keepalive);
    }

    /** Alice forgets bob: no sessions, no handshake retries, nothing more sent to him. */
    void aliceRemovesBob() {
        aliceNs.exec(COMMAND, Prerequisites.which("wg"), "set", alice.interfaceName(), "peer", bobPublicKey, "remove");
    }

    /** As {@link #startAlice} for bob. */
    void startBob(int keepalive) {
        bob = topology.adopt(WireGuardPeer.start(
                bobNs, topology.interfaceName("wb"), PEER_PORT, BOB_TUNNEL + "/24", topology.workDir(), bobPrivateKey));
        configure(bob, alicePublicKey, RELAY_ON_BOB_SIDE + ":" + RELAY_PORT, ALICE_TUNNEL, keepalive);
    }

    /** One {@code wg set}, so that the peer exists with its keepalive from the start. */
    static void configure(WireGuardPeer self, String peerKey, String endpoint, String peerTunnel, int keepalive) {
        List<String> argv = new java.util.ArrayList<>(List.of(
                Prerequisites.which("wg"),
                "set",
                self.interfaceName(),
                "peer",
                peerKey,
                "endpoint",
                endpoint,
                "allowed-ips",
                peerTunnel + "/32"));
        if (keepalive > 0) {
            argv.addAll(List.of("persistent-keepalive", Integer.toString(keepalive)));
        }
        self.namespace().exec(COMMAND, argv.toArray(String[]::new));
    }

    /**
     * Both registered by key only and linked, both with PersistentKeepalive {@code keepalive}.
     * Alice comes up first: her initiation makes her a candidate and has nowhere to go ({@code
     * drop_no_endpoint}); then bob's initiation reaches alice through her candidate, and the one
     * handshake commits both (SPEC E). Returns once a ping crosses and both endpoints are learned.
     */
    void enrollBothByKeyOnly(int keepalive) {
        register("alice", "-");
        register("bob", "-");
        link();
        assertTrue(row("bob").path("endpoint").isNull(), diagnostics());

        startAlice(keepalive);
        poll(
                Duration.ofSeconds(20),
                "alice's initiation to make her a candidate and be dropped for want of bob's endpoint",
                () -> ALICE_SEEN.equals(row("alice").path("candidate_endpoint").asText())
                        && control.counter("drop_no_endpoint") >= 1);
        assertTrue(row("alice").path("endpoint").isNull(), diagnostics());

        startBob(keepalive);
        poll(Duration.ofSeconds(45), "alice's first ping to cross the relay", this::aliceReachesBob);
        poll(
                Duration.ofSeconds(15),
                "wg peer list to show both learned endpoints",
                () -> ALICE_SEEN.equals(row("alice").path("endpoint").asText())
                        && BOB_SEEN.equals(row("bob").path("endpoint").asText()));
    }

    /** One ping through the tunnel from {@code from}'s namespace to {@code toTunnel}. */
    static boolean ping(Netns from, String toTunnel) {
        return from.tryExec(Duration.ofSeconds(15), Prerequisites.which("ping"), "-n", "-c", "1", "-W", "2", toTunnel)
                .succeeded();
    }

    boolean aliceReachesBob() {
        return ping(aliceNs, BOB_TUNNEL);
    }

    boolean bobReachesAlice() {
        return ping(bobNs, ALICE_TUNNEL);
    }

    /** {@code count} pings 0.2 s apart; the result for the caller to judge. */
    static Command.Result pings(Netns from, String toTunnel, int count) {
        return from.tryExec(
                Duration.ofSeconds(30),
                Prerequisites.which("ping"),
                "-n",
                "-c",
                Integer.toString(count),
                "-i",
                "0.2",
                "-W",
                "2",
                toTunnel);
    }

    /** One peer's row of {@code wg peer list}. */
    JsonNode row(String name) {
        return control.peer(name);
    }

    /** {@code UDP InDatagrams} of {@code ns}: datagrams that reached a socket there. */
    static long udpInDatagrams(Netns ns) {
        String snmp =
                ns.exec(COMMAND, Prerequisites.which("cat"), "/proc/net/snmp").stdout();
        return UdpSnmp.field(snmp, "InDatagrams");
    }

    /**
     * Evaluates {@code round} about twice a second until it returns true; fails with the
     * diagnostics after {@code timeout}. A round may itself assert (an invariant checked on every
     * sample) and fail at once.
     */
    void poll(Duration timeout, String what, BooleanSupplier round) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!round.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out after " + timeout.toSeconds() + " s waiting for " + what + "\n" + diagnostics());
            }
            try {
                Thread.sleep(POLL_PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }

    /** The roster file as the relay last wrote it ("" before its first change). */
    String rosterText() {
        try {
            return Files.exists(roster) ? Files.readString(roster) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when the roster has a line that starts with {@code prefix} (after leading blanks). */
    boolean rosterHasLineStartingWith(String prefix) {
        return rosterText().lines().anyMatch(line -> line.strip().startsWith(prefix));
    }

    /** How often {@code text} occurs in the relay's output so far. */
    int relayLogCount(String text) {
        return relay.output().split(java.util.regex.Pattern.quote(text), -1).length - 1;
    }

    /** The relay's output and view, both peers' `wg show`, and the NATs' tables, for failure messages. */
    String diagnostics() {
        StringBuilder text = new StringBuilder();
        text.append("--- relay ")
                .append(relay == null ? "(not started)" : relay.isAlive() ? "(running)" : "(exited)")
                .append(" output:\n")
                .append(relay == null ? "" : relay.output());
        if (relay != null && relay.isAlive()) {
            for (String verb : List.of("wg peer list", "wg show", "wg blocklist list", "wg show drop_sources")) {
                try {
                    text.append("--- ")
                            .append(verb)
                            .append(": ")
                            .append(control.call(verb))
                            .append('\n');
                } catch (RuntimeException | AssertionError e) {
                    text.append("--- ")
                            .append(verb)
                            .append(" failed: ")
                            .append(e.getMessage())
                            .append('\n');
                }
            }
        }
        text.append("--- roster:\n").append(rosterText());
        text.append("--- alice: ").append(alice == null ? "(down)\n" : alice.describe());
        text.append("--- bob: ").append(bob == null ? "(down)\n" : bob.describe());
        for (Netns nat : List.of(aliceNatNs, bobNatNs)) {
            Command.Result conntrack = nat.tryExec(COMMAND, Prerequisites.which("cat"), "/proc/net/nf_conntrack");
            text.append("--- conntrack in ")
                    .append(nat.name())
                    .append(":\n")
                    .append(conntrack.stdout())
                    .append(conntrack.stderr());
        }
        return text.toString();
    }

    /**
     * Stops everything, newest first, then asserts that no namespace or process of this run is
     * left and that the relay exited 0 on SIGTERM (SPEC).
     */
    @Override
    public void close() {
        topology.closeStopping(relay);
    }
}
