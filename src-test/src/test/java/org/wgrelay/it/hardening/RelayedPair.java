package org.wgrelay.it.hardening;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardPeer;

/**
 * The fixture of the hardening tests: alice and bob (wireguard-go) that reach each other only
 * through a wg-relay whose roster names both with their public keys stamped, plus an attacker
 * namespace, mallory, that can reach the relay and nothing else.
 *
 * <pre>
 *   [alice ns]  wg 10.234.0.1   veth 10.233.1.2 ---- 10.233.1.1 |            | 10.233.2.1 ---- 10.233.2.2 veth  wg 10.234.0.2  [bob ns]
 *                                                               | [relay ns] |
 *                                                               | 10.233.3.1 ---- 10.233.3.2 veth  [mallory ns]
 * </pre>
 *
 * <p>The relay namespace does not route between its subnets, so every tunnel packet has crossed
 * the relay's UDP port, and mallory can only talk to the relay. Bob's key is generated before his
 * daemon runs, so a test can keep bob down (stamped on the relay, configured on alice, yet
 * nothing listening) and bring him up later. Closing tears everything down; {@link #close}
 * then asserts that nothing was left behind and that the relay exited 0 on SIGTERM.
 */
final class RelayedPair implements AutoCloseable {

    static final int RELAY_PORT = 51820;
    static final int PEER_PORT = 51000;
    static final String RELAY_ON_ALICE_SIDE = "10.233.1.1";
    static final String RELAY_ON_BOB_SIDE = "10.233.2.1";
    static final String RELAY_ON_MALLORY_SIDE = "10.233.3.1";
    static final String ALICE_UNDERLAY = "10.233.1.2";
    static final String BOB_UNDERLAY = "10.233.2.2";
    static final String MALLORY_UNDERLAY = "10.233.3.2";
    static final String ALICE_TUNNEL = "10.234.0.1";
    static final String BOB_TUNNEL = "10.234.0.2";

    private static final Duration RELAY_STARTUP = Duration.ofSeconds(90);
    private static final Duration POLL_PAUSE = Duration.ofMillis(500);

    final Topology topology;
    final Netns relayNs;
    final Netns aliceNs;
    final Netns bobNs;
    final Netns malloryNs;
    /** Alice's veth in her namespace: where her underlay address lives. */
    final String aliceVeth;

    final Path roster;
    final WireGuardPeer alice;
    final String bobPrivateKey;
    final String bobPublicKey;
    RelayProcess relay;
    RelayControl control;
    WireGuardPeer bob;
    /** Outcomes of {@link #probe}, oldest first: the record of the tunnel's health. */
    private final List<Boolean> probes = new ArrayList<>();

    private int longestOutage;
    private int currentOutage;

    private RelayedPair(Topology topology) {
        this.topology = topology;
        Topology.RelayBetween net =
                topology.relayBetween(RELAY_ON_ALICE_SIDE, ALICE_UNDERLAY, RELAY_ON_BOB_SIDE, BOB_UNDERLAY);
        relayNs = net.relay();
        aliceNs = net.alice();
        bobNs = net.bob();
        aliceVeth = net.aliceIf();
        malloryNs = topology.namespace("mallory");
        topology.connect(relayNs, "rm", RELAY_ON_MALLORY_SIDE + "/24", malloryNs, "m", MALLORY_UNDERLAY + "/24");
        roster = topology.workDir().resolve("wg-roster");
        alice = topology.adopt(WireGuardPeer.start(
                aliceNs, topology.interfaceName("wa"), PEER_PORT, ALICE_TUNNEL + "/24", topology.workDir()));
        bobPrivateKey = WireGuardPeer.generatePrivateKey();
        bobPublicKey = WireGuardPeer.publicKeyOf(bobPrivateKey);
    }

    /**
     * Skips (or under CI=true fails) without root and tools; builds the topology, starts the
     * relay with both keys stamped and alice configured for bob via the relay; starts bob too
     * unless {@code bobUp} is false.
     */
    static RelayedPair start(boolean bobUp) {
        Prerequisites.check()
                .root()
                .tun()
                .tools("ip", "wg", "wireguard-go", "ping", "bash")
                .namespaces()
                .enforce();
        Topology topology = Topology.create();
        try {
            RelayedPair pair = new RelayedPair(topology);
            pair.startRelay();
            pair.aliceAddsBob();
            if (bobUp) {
                pair.startBob();
            }
            return pair;
        } catch (RuntimeException | Error e) {
            try {
                topology.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void startRelay() {
        try {
            Files.writeString(
                    roster,
                    String.join(
                            "\n",
                            "# written by " + RelayedPair.class.getSimpleName(),
                            "peer alice " + ALICE_UNDERLAY + ":" + PEER_PORT + " " + alice.publicKey(),
                            "peer bob " + BOB_UNDERLAY + ":" + PEER_PORT + " " + bobPublicKey,
                            "link alice bob",
                            ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        relay = topology.adopt(RelayProcess.start(relayNs, "0.0.0.0", RELAY_PORT, roster, 2, RELAY_STARTUP));
        control = RelayControl.of(relay, relayNs);
    }

    /** Bob comes up: wireguard-go with his key, knowing alice behind the relay. */
    void startBob() {
        bob = topology.adopt(WireGuardPeer.start(
                bobNs, topology.interfaceName("wb"), PEER_PORT, BOB_TUNNEL + "/24", topology.workDir(), bobPrivateKey));
        bob.addPeer(alice.publicKey(), RELAY_ON_BOB_SIDE + ":" + RELAY_PORT, ALICE_TUNNEL + "/32");
    }

    /** Alice (re)configures bob: a fresh peer entry, without sessions or handshake state. */
    void aliceAddsBob() {
        alice.addPeer(bobPublicKey, RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT, BOB_TUNNEL + "/32");
    }

    /** Alice forgets bob: no sessions, no handshake retries, nothing more sent to him. */
    void aliceRemovesBob() {
        aliceNs.exec(
                Duration.ofSeconds(20),
                Prerequisites.which("wg"),
                "set",
                alice.interfaceName(),
                "peer",
                bobPublicKey,
                "remove");
    }

    /** One ping from alice to bob through the tunnel, not recorded. */
    boolean ping() {
        return aliceNs.tryExec(
                        Duration.ofSeconds(15), Prerequisites.which("ping"), "-n", "-c", "1", "-W", "2", BOB_TUNNEL)
                .succeeded();
    }

    /**
     * One recorded ping: the tests that claim alice's tunnel is not disturbed probe it every poll
     * round and then bound the longest run of failures with {@link #longestOutage}.
     */
    boolean probe() {
        boolean ok = ping();
        probes.add(ok);
        currentOutage = ok ? 0 : currentOutage + 1;
        longestOutage = Math.max(longestOutage, currentOutage);
        return ok;
    }

    /** The longest run of consecutive failed {@link #probe}s. */
    int longestOutage() {
        return longestOutage;
    }

    String probeSummary() {
        long ok = probes.stream().filter(b -> b).count();
        return ok + " of " + probes.size() + " probes answered, longest run of failures " + longestOutage;
    }

    /** Waits until alice's pings cross the tunnel; the first ones may start a handshake and be lost. */
    void awaitTunnel(Duration timeout, String what) {
        poll(timeout, what, this::ping);
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

    /** The roster file as the relay last wrote it. */
    String rosterText() {
        try {
            return Files.readString(roster);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The relay's output, both peers' `wg show`, and the relay's own view, for failure messages. */
    String diagnostics() {
        StringBuilder text = new StringBuilder();
        text.append("--- relay ")
                .append(relay == null ? "(not started)" : relay.isAlive() ? "(running)" : "(exited)")
                .append(" output:\n")
                .append(relay == null ? "" : relay.output());
        if (relay != null && relay.isAlive()) {
            for (String verb : List.of("wg peer list", "wg show", "wg blocklist list")) {
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
            text.append("--- roster:\n").append(rosterText());
        }
        text.append("--- probes: ").append(probeSummary()).append('\n');
        text.append("--- alice: ").append(alice.describe());
        text.append("--- bob: ").append(bob == null ? "(down)\n" : bob.describe());
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
