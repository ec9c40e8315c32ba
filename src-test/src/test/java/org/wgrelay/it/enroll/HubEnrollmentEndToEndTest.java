package org.wgrelay.it.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardPeer;

/**
 * Spokes of a hub enroll by key (SPEC E with B): a WireGuard hub registered with its endpoint and
 * key, three spokes registered by key only, each behind a NAT of its own. A spoke's initiation
 * names only the hub, so the relay tries its source as an unidentified candidate; the hub's answer
 * (MAC1 for the spoke's key) says which spoke it is, and the hub's transport data on that session
 * commits it.
 *
 * <pre>
 *   [hub]     wg 10.238.0.1    10.237.0.2 ------------------------------------- 10.237.0.1 |         |
 *   [spokeN]  wg 10.238.0.1N   192.168.6N.2 -- .1 [natN] 10.237.N.2 SNAT :4710N -- 10.237.N.1 | [relay] |
 * </pre>
 */
class HubEnrollmentEndToEndTest {

    private static final int RELAY_PORT = 51820;
    private static final int PEER_PORT = 51000;
    private static final int KEEPALIVE = 25;
    private static final Duration RELAY_STARTUP = Duration.ofSeconds(90);
    private static final Duration COMMAND = Duration.ofSeconds(20);

    /** One WireGuard site: the hub (index 0) or spoke N. */
    private static final class Site {
        final String name;
        final int index;
        final Netns ns;
        final String privateKey = WireGuardPeer.generatePrivateKey();
        final String publicKey = WireGuardPeer.publicKeyOf(privateKey);
        WireGuardPeer wg;

        Site(String name, int index, Netns ns) {
            this.name = name;
            this.index = index;
            this.ns = ns;
        }

        String relaySide() {
            return "10.237." + index + ".1";
        }

        /** Where the relay sees this site: the hub's own address, a spoke's NAT mapping. */
        String seen() {
            return "10.237." + index + ".2:" + (index == 0 ? PEER_PORT : 47100 + index);
        }

        String tunnel() {
            return "10.238.0." + (index == 0 ? 1 : 10 + index);
        }
    }

    private Topology topology;
    private RelayProcess relay;
    private RelayControl control;
    private Path roster;
    private Site hub;
    private final List<Site> spokes = new ArrayList<>();

    @AfterEach
    void stopEverythingAndLeaveNothingBehind() {
        if (topology != null) {
            topology.closeStopping(relay);
        }
    }

    @Test
    void threeSpokesRegisteredByKeyOnlyEnrollThroughTheirHub() {
        build();
        control.call("wg peer add", hub.name, hub.seen());
        control.call("wg peer pubkey", hub.name, hub.publicKey);
        for (Site spoke : spokes) {
            control.call("wg peer add", spoke.name, "-");
            control.call("wg peer pubkey", spoke.name, spoke.publicKey);
        }
        for (Site spoke : spokes) {
            control.ctl("wg", "link", "add", hub.name, spoke.name);
        }
        for (Site spoke : spokes) {
            assertTrue(control.peer(spoke.name).path("endpoint").isNull(), diagnostics());
        }

        hub.wg = startWireGuard(hub, "wh");
        for (Site spoke : spokes) {
            EnrollmentNet.configure(hub.wg, spoke.publicKey, hub.relaySide() + ":" + RELAY_PORT, spoke.tunnel(), 0);
        }
        // Each spoke initiates as soon as it knows the hub (PersistentKeepalive), all within a second or two.
        for (Site spoke : spokes) {
            spoke.wg = startWireGuard(spoke, "w" + spoke.index);
            EnrollmentNet.configure(
                    spoke.wg, hub.publicKey, spoke.relaySide() + ":" + RELAY_PORT, hub.tunnel(), KEEPALIVE);
        }

        for (Site spoke : spokes) {
            poll(
                    Duration.ofSeconds(45),
                    spoke.name + "'s ping to the hub",
                    () -> EnrollmentNet.ping(spoke.ns, hub.tunnel()));
        }
        for (Site spoke : spokes) {
            assertTrue(EnrollmentNet.ping(hub.ns, spoke.tunnel()), "the hub's ping to " + spoke.name + diagnostics());
        }
        poll(
                Duration.ofSeconds(15),
                "every spoke's learned endpoint in wg peer list",
                () -> spokes.stream()
                        .allMatch(s -> s.seen()
                                .equals(control.peer(s.name).path("endpoint").asText())));

        for (Site spoke : spokes) {
            JsonNode row = control.peer(spoke.name);
            String why = spoke.name + ": " + row + "\n" + diagnostics();
            assertEquals(spoke.seen(), row.path("endpoint").asText(), why);
            assertEquals(1, row.path("endpoint_relearn").asLong(), why);
            assertTrue(row.path("candidate_endpoint").isNull(), why);
            assertEquals(hub.name, row.path("linked_to").asText(), why);
            assertEquals(1, logCount("relearn peer=" + spoke.name + " endpoint=" + spoke.seen()), why);
        }
        JsonNode hubRow = control.peer(hub.name);
        assertEquals(hub.seen(), hubRow.path("endpoint").asText(), diagnostics());
        assertEquals(0, hubRow.path("endpoint_relearn").asLong(), diagnostics());
        assertEquals(0, control.counter("drop_relearn_unconfirmed"), diagnostics());
        assertEquals(0, control.call("wg blocklist list").path("entries").size(), diagnostics());
        poll(
                Duration.ofSeconds(15),
                "the roster file to carry every spoke's learned endpoint",
                () -> spokes.stream()
                        .allMatch(s -> rosterText()
                                .lines()
                                .anyMatch(l ->
                                        l.strip().startsWith("peer " + s.name + " " + s.seen() + " " + s.publicKey))));
    }

    private void build() {
        Prerequisites.check()
                .root()
                .tun()
                .tools("ip", "wg", "wireguard-go", "ping", "bash", "iptables", "sysctl")
                .namespaces()
                .enforce();
        topology = Topology.create();
        Netns relayNs = topology.namespace("relay");
        hub = new Site("hub", 0, topology.namespace("hub"));
        topology.connect(relayNs, "rh", hub.relaySide() + "/24", hub.ns, "h", "10.237.0.2/24");
        for (int n = 1; n <= 3; n++) {
            Site spoke = new Site("spoke" + n, n, topology.namespace("spoke" + n));
            Netns nat = topology.namespace("nat" + n);
            Nat.behind(
                    topology,
                    spoke.ns,
                    "s" + n,
                    "192.168.6" + n + ".2",
                    nat,
                    "s" + n + "n",
                    "192.168.6" + n + ".1",
                    "s" + n + "p",
                    "10.237." + n + ".2",
                    47100 + n);
            topology.connect(nat, "s" + n + "p", "10.237." + n + ".2/24", relayNs, "r" + n, spoke.relaySide() + "/24");
            spokes.add(spoke);
        }
        roster = topology.workDir().resolve("wg-roster");
        relay = topology.adopt(RelayProcess.start(
                relayNs, "0.0.0.0", RELAY_PORT, roster, 2, RELAY_STARTUP, "--max-links-per-peer", "4"));
        control = RelayControl.of(relay, relayNs);
    }

    private WireGuardPeer startWireGuard(Site site, String tag) {
        return topology.adopt(WireGuardPeer.start(
                site.ns,
                topology.interfaceName(tag),
                PEER_PORT,
                site.tunnel() + "/24",
                topology.workDir(),
                site.privateKey));
    }

    private void poll(Duration timeout, String what, BooleanSupplier round) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!round.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out after " + timeout.toSeconds() + " s waiting for " + what + "\n" + diagnostics());
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }

    private int logCount(String text) {
        return relay.output().split(java.util.regex.Pattern.quote(text), -1).length - 1;
    }

    private String rosterText() {
        try {
            return Files.exists(roster) ? Files.readString(roster) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String diagnostics() {
        StringBuilder text = new StringBuilder("--- relay output:\n").append(relay.output());
        if (relay.isAlive()) {
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
        }
        text.append("--- roster:\n").append(rosterText());
        List<Site> all = new ArrayList<>(List.of(hub));
        all.addAll(spokes);
        for (Site site : all) {
            text.append("--- ")
                    .append(site.name)
                    .append(": ")
                    .append(site.wg == null ? "(down)\n" : site.wg.describe());
        }
        return text.toString();
    }
}
