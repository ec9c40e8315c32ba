package org.wgrelay.it.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.wgrelay.it.hub.HubAndSpokes.Site;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.RelayControl.Counters;
import org.wgrelay.it.netns.WireGuardTunnel;

/**
 * Hub links end to end (SPEC 0.3 B): one WireGuard hub interface with three spokes, all behind
 * one relay port, the hub registered in three links. The relay routes the hub's handshakes by
 * MAC1 and its responses and transport data by the session index, with no change on any client.
 * One relay and one set of peers serve every test of this class, in order; each test brings up
 * the tunnels it needs itself.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HubLinksEndToEndTest {

    private static final Duration HANDSHAKE = Duration.ofSeconds(30);
    private static final int TRANSFER_BYTES = 64 << 20;
    private static final int TRANSFER_TIMEOUT_SECONDS = 120;
    /** Consecutive lost pings (each waits 2 s) that still count as an undisturbed tunnel on a busy host. */
    private static final int MAX_OUTAGE = 2;

    private static HubAndSpokes fixture;
    private static Site hub;

    @BeforeAll
    static void startRelayHubAndThreeSpokes() {
        fixture = HubAndSpokes.start(new HubAndSpokes.Options(false, false));
        hub = fixture.hub;
        fixture.startAll();
    }

    @AfterAll
    static void stopEverythingAndLeaveNothingBehind() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    @Order(1)
    void showConfigGivesTheHubABlockPerSpokeAndEachSpokeTheHubsBlock() {
        String hubConfig = fixture.control
                .ctl("wg", "show", "config", hub.name, hub.relayEndpoint())
                .path("config")
                .asText();
        List<Map<String, String>> blocks = peerBlocks(hubConfig);
        assertEquals(3, blocks.size(), "one [Peer] block per spoke:\n" + hubConfig);
        assertEquals(
                fixture.spokes.stream().map(s -> s.publicKey).collect(Collectors.toSet()),
                blocks.stream().map(b -> b.get("PublicKey")).collect(Collectors.toSet()),
                "the blocks carry the three spokes' keys, each once:\n" + hubConfig);
        for (Map<String, String> block : blocks) {
            assertEquals(hub.relayEndpoint(), block.get("Endpoint"), hubConfig);
            assertTrue(block.containsKey("AllowedIPs"), hubConfig);
        }

        for (Site spoke : fixture.spokes) {
            String config = fixture.control
                    .call("wg show config", spoke.name, spoke.relayEndpoint())
                    .path("config")
                    .asText();
            List<Map<String, String>> own = peerBlocks(config);
            assertEquals(1, own.size(), spoke + "'s config has the hub's block only:\n" + config);
            assertEquals(hub.publicKey, own.get(0).get("PublicKey"), config);
            assertEquals(spoke.relayEndpoint(), own.get(0).get("Endpoint"), config);
        }
    }

    @Test
    @Order(2)
    void allThreeSpokesPingTheHubAtOnceAndWgPeerListShowsTheHubsLinks() throws Exception {
        // Three handshakes with the one hub interface at the same moment, then 20 pings from each
        // spoke at the same time; every one of the 60 must come back.
        List<Duration> firstPing = fixture.onEachSpokeAtOnce(spoke -> {
            long start = System.nanoTime();
            fixture.awaitPing(spoke, hub, HANDSHAKE);
            return Duration.ofNanos(System.nanoTime() - start);
        });
        System.out.println("first ping answered after " + firstPing);
        List<Command.Result> bursts =
                fixture.onEachSpokeAtOnce(spoke -> fixture.tunnel(spoke, hub).ping(20, "0.1"));
        for (int i = 0; i < bursts.size(); i++) {
            Command.Result burst = bursts.get(i);
            assertTrue(
                    burst.succeeded() && burst.stdout().contains(" 20 received"),
                    "20 of 20 pings from " + fixture.spokes.get(i) + " to the hub: " + burst.describe() + "\n"
                            + fixture.diagnostics());
        }

        // Each side's WireGuard sees its partner at the relay's address and port, on its own side.
        for (Site spoke : fixture.spokes) {
            assertEquals(
                    hub.relayEndpoint(),
                    hub.wg.endpointOf(spoke.publicKey).orElse(null),
                    "the hub's endpoint for " + spoke + "\n" + fixture.diagnostics());
            assertEquals(
                    spoke.relayEndpoint(),
                    spoke.wg.endpointOf(hub.publicKey).orElse(null),
                    spoke + "'s endpoint for the hub\n" + fixture.diagnostics());
        }

        JsonNode hubRow = fixture.row(hub);
        assertTrue(hubRow.path("linked_to").isNull(), "a hub has no single partner: " + hubRow);
        assertEquals(List.of("spoke1", "spoke2", "spoke3"), names(hubRow.path("links")), hubRow.toString());
        for (Site spoke : fixture.spokes) {
            JsonNode row = fixture.row(spoke);
            assertEquals(hub.name, row.path("linked_to").asText(), row.toString());
            assertEquals(List.of(hub.name), names(row.path("links")), row.toString());
            assertEquals(spoke.endpoint(), row.path("endpoint").asText(), row.toString());
            assertTrue(row.path("fwd_packets").asLong() >= 20, spoke + " forwarded its pings: " + row);
        }
        assertTrue(hubRow.path("fwd_packets").asLong() >= 60, "the hub's answers were forwarded: " + hubRow);
        assertNothingDropped();
    }

    @Test
    @Order(3)
    void theHubsOwnHandshakeReachesEachSpokeByItsMac1() {
        for (Site spoke : fixture.spokes) {
            fixture.awaitPing(spoke, hub, HANDSHAKE);
        }
        // The hub forgets every spoke and meets them again: now the hub initiates, and the relay
        // must pick, of the hub's three partners, the one whose key verifies each initiation's MAC1.
        long mismatchBefore = fixture.control.counter("drop_handshake_pubkey_mismatch");
        for (Site spoke : fixture.spokes) {
            fixture.removePeer(hub, spoke.publicKey);
            hub.wg.addPeer(spoke.publicKey, hub.relayEndpoint(), spoke.tunnelAddress() + "/32");
        }
        for (Site spoke : fixture.spokes) {
            WireGuardTunnel fromHub = fixture.tunnel(hub, spoke);
            fromHub.awaitPing(
                    HANDSHAKE, "a ping from the hub to " + spoke + " on the hub's handshake", fixture::diagnostics);
            Command.Result ping = fromHub.ping(5, "0.1");
            assertTrue(
                    ping.succeeded() && ping.stdout().contains(" 5 received"),
                    "5 of 5 pings from the hub to " + spoke + ": " + ping.describe() + "\n" + fixture.diagnostics());
        }
        assertEquals(mismatchBefore, fixture.control.counter("drop_handshake_pubkey_mismatch"), fixture.diagnostics());
        assertNothingDropped();
    }

    @Test
    @Order(4)
    void sixtyFourMebibytesFromTheHubReachSpoke2IntactWhileSpokes1And3KeepPinging() throws Exception {
        Site spoke1 = fixture.spoke(1);
        Site spoke2 = fixture.spoke(2);
        Site spoke3 = fixture.spoke(3);
        for (Site spoke : fixture.spokes) {
            fixture.awaitPing(spoke, hub, HANDSHAKE);
        }
        WireGuardTunnel.Transfer transfer;
        long start;
        long end;
        Pinger pings1 = Pinger.start(fixture, spoke1, hub);
        Pinger pings3 = Pinger.start(fixture, spoke3, hub);
        try {
            transfer = fixture.tunnel(hub, spoke2)
                    .transfer(TRANSFER_BYTES, TRANSFER_TIMEOUT_SECONDS, fixture::diagnostics);
            end = System.nanoTime();
            start = end - (long) (transfer.seconds() * 1e9);
        } finally {
            pings1.close();
            pings3.close();
        }
        System.out.println("hub -> spoke2: " + transfer.throughput());
        transfer.assertArrivedIntact();
        transfer.delete();

        for (Pinger pinger : List.of(pings1, pings3)) {
            String why = pinger.summary() + ", " + pinger.sentBetween(start, end) + " sent during the transfer\n"
                    + fixture.diagnostics();
            System.out.println(pinger.summary() + ", " + pinger.answeredBetween(start, end) + " of "
                    + pinger.sentBetween(start, end) + " answered during the transfer");
            assertTrue(pinger.sentBetween(start, end) >= 2, "too few pings overlapped the transfer: " + why);
            assertTrue(pinger.answeredBetween(start, end) >= 1, "no ping answered during the transfer: " + why);
            assertTrue(pinger.longestOutage() <= MAX_OUTAGE, "the tunnel to the hub was disturbed: " + why);
            assertTrue(pinger.lastAnswered(), "the last ping was lost: " + why);
        }
        assertNothingDropped();
    }

    /** Nothing in these tests is misaddressed, so the relay has no reason to drop anything. */
    private static void assertNothingDropped() {
        Counters show = fixture.control.show();
        for (String counter :
                List.of("drop_no_route", "drop_handshake_pubkey_mismatch", "drop_unknown_src", "drop_no_link")) {
            assertEquals(0, show.get(counter), counter + " in " + show.json() + "\n" + fixture.diagnostics());
        }
    }

    private static List<String> names(JsonNode array) {
        List<String> names = new ArrayList<>();
        array.forEach(n -> names.add(n.asText()));
        return names;
    }

    /** The {@code [Peer]} blocks of a wg-quick config, each as its {@code Key = Value} lines. */
    static List<Map<String, String>> peerBlocks(String config) {
        List<Map<String, String>> blocks = new ArrayList<>();
        Map<String, String> block = null;
        for (String raw : config.split("\n")) {
            String line = raw.strip();
            if (line.equals("[Peer]")) {
                block = new LinkedHashMap<>();
                blocks.add(block);
            } else if (block != null && !line.startsWith("#") && line.contains("=")) {
                int eq = line.indexOf('=');
                block.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        return blocks;
    }
}
