package org.wgrelay.it.takeover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardTunnel;

/**
 * SPEC D end to end: two wireguard-go peers move 64 MiB over TCP through the relay while the relay
 * is taken over three times; every byte arrives (SHA-256 equal) and the old relays exit 0. The
 * transfer is paced so that it spans the three takeovers, which the test checks.
 */
class TakeoverWireGuardEndToEndTest {
    private static final int RELAY_PORT = 51820;
    private static final int PEER_PORT = 51000;
    private static final String RELAY_ON_ALICE_SIDE = "10.233.1.1";
    private static final String RELAY_ON_BOB_SIDE = "10.233.2.1";
    private static final String ALICE_UNDERLAY = "10.233.1.2";
    private static final String BOB_UNDERLAY = "10.233.2.2";
    private static final int TRANSFER_BYTES = 64 << 20;
    /** 64 MiB in about 32 s: longer than three takeovers on a busy machine. */
    private static final long BYTES_PER_SECOND = 2 << 20;

    private Topology topology;
    private final List<RelayProcess> relays = new ArrayList<>();

    @AfterEach
    void closeEverything() {
        if (topology != null) {
            topology.close();
            topology.assertNothingLeft();
        }
    }

    @Test
    void sixtyFourMebibytesArriveIntactAcrossThreeTakeovers() throws Exception {
        Prerequisites.check()
                .root()
                .tun()
                .tools("ip", "wg", "wireguard-go", "ping")
                .namespaces()
                .enforce();
        topology = Topology.create();
        Topology.RelayBetween ns =
                topology.relayBetween(RELAY_ON_ALICE_SIDE, ALICE_UNDERLAY, RELAY_ON_BOB_SIDE, BOB_UNDERLAY);
        Path roster = topology.workDir().resolve("wg-roster");
        Files.writeString(
                roster,
                String.join(
                        "\n",
                        "peer alice " + ALICE_UNDERLAY + ":" + PEER_PORT,
                        "peer bob " + BOB_UNDERLAY + ":" + PEER_PORT,
                        "link alice bob",
                        ""));
        RelayProcess relay = start(ns.relay(), roster);
        WireGuardTunnel tunnel = WireGuardTunnel.start(
                topology,
                PEER_PORT,
                new WireGuardTunnel.End(ns.alice(), "10.234.0.1/24", RELAY_ON_ALICE_SIDE + ":" + RELAY_PORT),
                new WireGuardTunnel.End(ns.bob(), "10.234.0.2/24", RELAY_ON_BOB_SIDE + ":" + RELAY_PORT));
        tunnel.awaitPing(Duration.ofSeconds(30), "a ping through the tunnel", () -> diagnostics(tunnel));

        CompletableFuture<WireGuardTunnel.Transfer> transfer = CompletableFuture.supplyAsync(() -> {
            try {
                return tunnel.transfer(TRANSFER_BYTES, 120, BYTES_PER_SECOND, () -> diagnostics(tunnel));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        for (int i = 1; i <= 3; i++) {
            RelayProcess next = start(ns.relay(), roster, "--takeover");
            assertTrue(
                    next.output().contains("takeover from pid=" + relay.pid()),
                    "takeover " + i + ":\n" + next.output());
            assertEquals(OptionalInt.of(0), relay.awaitExit(Duration.ofSeconds(15)), relay.output());
            relay = next;
        }
        assertTrue(!transfer.isDone(), "the three takeovers happened while the transfer ran (pace it slower)");
        WireGuardTunnel.Transfer done = transfer.get(180, TimeUnit.SECONDS);
        System.out.println("across 3 takeovers: " + done.throughput());
        done.assertArrivedIntact();
        done.delete();
    }

    private RelayProcess start(Netns ns, Path roster, String... extra) {
        RelayProcess r =
                topology.adopt(RelayProcess.start(ns, "0.0.0.0", RELAY_PORT, roster, 2, Duration.ofSeconds(60), extra));
        relays.add(r);
        return r;
    }

    private String diagnostics(WireGuardTunnel tunnel) {
        StringBuilder out = new StringBuilder();
        for (RelayProcess r : relays) {
            out.append("--- relay pid ").append(r.pid()).append(r.isAlive() ? " (running)" : " (exited)");
            out.append(":\n").append(r.output()).append('\n');
        }
        return out + tunnel.describe();
    }
}
