package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.control.LocalRelay.await;
import static org.wgrelay.it.control.LocalRelay.endpointOf;
import static org.wgrelay.it.control.LocalRelay.receive;
import static org.wgrelay.it.control.LocalRelay.udpSocket;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.SocketTimeoutException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every verb of SPEC's table against a real relay over TCP: the result fields SPEC
 * names, every error code each verb can give, {@code wg link add}'s check order, and
 * that a rejected request changes nothing — roster, roster file, forwarding.
 */
class ControlVerbsTest {
    static final Set<String> PEER_FIELDS = Set.of(
            "name",
            "endpoint",
            "pubkey",
            "label",
            "linked_to",
            "nic",
            "last_seen",
            "rx_packets",
            "rx_bytes",
            "fwd_packets",
            "fwd_bytes",
            "drop_no_link",
            "drop_no_endpoint", // SPEC E
            "drop_pubkey_mismatch",
            "endpoint_relearn",
            "candidate_endpoint");
    static final Set<String> SHOW_FIELDS = Set.of(
            "rx_packets",
            "fwd_packets",
            "drop_unknown_src",
            "drop_no_link",
            "drop_not_wg_shaped",
            "drop_handshake_pubkey_mismatch",
            "drop_handshake_no_pubkey_match",
            "drop_relearn_unconfirmed",
            "drop_blocklisted",
            "drop_handshake_rate_limited",
            "drop_no_endpoint", // SPEC E
            "port",
            "peer_count",
            "link_count",
            "xdp_attached",
            "xdp_mode",
            "store", // SPEC C
            "store_revision",
            "store_connected");
    static final String KEY_A = key(1);
    static final String KEY_B = key(2);

    private final Random random = new Random(7);
    private LocalRelay relay;
    private RelayClient c;

    static String key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    @BeforeEach
    void start() throws Exception {
        relay = LocalRelay.open();
        c = relay.client();
    }

    @AfterEach
    void stop() throws Exception {
        if (c != null) {
            c.close();
        }
        if (relay != null) {
            relay.close();
        }
    }

    private static Set<String> fields(JsonNode n) {
        Set<String> s = new LinkedHashSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }

    private JsonNode peer(String name) throws IOException {
        for (JsonNode p : c.ok("wg peer list").get("peers")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no peer " + name);
    }

    private void addLinkedPair() throws IOException {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        c.ok("wg peer add", "bob", "198.51.100.2:51820");
        c.ok("wg peer add", "carol", "198.51.100.3:51820");
        c.ok("wg link add", "alice", "bob");
    }

    // ---- peers ------------------------------------------------------------------------------

    @Test
    void peerAddRegistersThePeerAndPeerListShowsEverySpecField() throws Exception {
        JsonNode added = c.ok("wg peer add", "alice", "198.51.100.1:51820", "home", "router");
        assertEquals("alice", added.get("peer").get("name").asText());
        JsonNode peers = c.ok("wg peer list").get("peers");
        assertEquals(1, peers.size());
        JsonNode p = peers.get(0);
        assertEquals(PEER_FIELDS, fields(p));
        assertEquals("alice", p.get("name").asText());
        assertEquals("198.51.100.1:51820", p.get("endpoint").asText());
        assertEquals("home router", p.get("label").asText(), "the label's words are joined");
        for (String absent : List.of("pubkey", "linked_to", "nic", "last_seen", "candidate_endpoint")) {
            assertTrue(p.get(absent).isNull(), absent + " is null when it has no value");
        }
        for (String counter : List.of(
                "rx_packets",
                "rx_bytes",
                "fwd_packets",
                "fwd_bytes",
                "drop_no_link",
                "drop_pubkey_mismatch",
                "endpoint_relearn")) {
            assertTrue(p.get(counter).isIntegralNumber() && p.get(counter).asLong() == 0, counter + ": " + p);
        }
    }

    @Test
    void peerListIsEmptyOnAFreshRelayAndKeepsRegistrationOrder() throws Exception {
        assertEquals(0, c.ok("wg peer list").get("peers").size());
        for (String n : List.of("zed", "amy", "mo")) {
            c.ok("wg peer add", n, "192.0.2." + n.length() + n.charAt(0) % 10 + ":1");
        }
        List<String> names = new ArrayList<>();
        c.ok("wg peer list").get("peers").forEach(p -> names.add(p.get("name").asText()));
        assertEquals(List.of("zed", "amy", "mo"), names);
    }

    @Test
    void ipv6EndpointsAreWrittenInBracketsInCompressedForm() throws Exception {
        c.ok("wg peer add", "v6", "[2001:DB8:0:0::1]:4500");
        assertEquals("[2001:db8::1]:4500", peer("v6").get("endpoint").asText());
        assertEquals(
                "wg_endpoint_in_use",
                c.error("wg peer add", "v6b", "[2001:db8::1]:4500"),
                "the same address in another spelling is the same endpoint");
        c.ok("wg peer add", "mapped", "[::ffff:192.0.2.9]:7");
        assertEquals("192.0.2.9:7", peer("mapped").get("endpoint").asText(), "v4-mapped is IPv4");
    }

    @Test
    void peerUpdateMovesTheEndpointAndKeepsTheLink() throws Exception {
        addLinkedPair();
        JsonNode updated = c.ok("wg peer update", "alice", "203.0.113.50:40000");
        assertEquals("203.0.113.50:40000", updated.get("peer").get("endpoint").asText());
        assertEquals("203.0.113.50:40000", peer("alice").get("endpoint").asText());
        assertEquals("bob", peer("alice").get("linked_to").asText());
        c.ok("wg peer add", "dave", "198.51.100.1:51820"); // the old endpoint is free again
        c.ok("wg peer update", "alice", "203.0.113.50:40000"); // to its own endpoint: no change, no error
    }

    @Test
    void peerPubkeyStampsTheKeyInCanonicalBase64() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        assertEquals(
                KEY_A,
                c.ok("wg peer pubkey", "alice", KEY_A).get("peer").get("pubkey").asText());
        String unpadded = KEY_B.substring(0, KEY_B.length() - 1);
        c.ok("wg peer pubkey", "alice", "  " + unpadded + " ");
        assertEquals(KEY_B, peer("alice").get("pubkey").asText());
    }

    @Test
    void peerNicPinsAndWithoutANicClears() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        assertEquals(
                "eth1",
                c.ok("wg peer nic", "alice", "eth1").get("peer").get("nic").asText());
        assertEquals("eth1", peer("alice").get("nic").asText());
        c.ok("wg peer nic", "alice");
        assertTrue(peer("alice").get("nic").isNull());
    }

    @Test
    void peerRemoveAlsoRemovesItsLink() throws Exception {
        addLinkedPair();
        c.ok("wg peer remove", "alice");
        assertEquals(0, c.ok("wg link list").get("links").size());
        assertTrue(peer("bob").get("linked_to").isNull());
        assertEquals(2, c.ok("wg peer list").get("peers").size());
        c.ok("wg link add", "bob", "carol"); // bob is free to link again
    }

    // ---- links --------------------------------------------------------------------------------

    @Test
    void linkListShowsLinksAsAAndBAndRemoveTakesEitherOrder() throws Exception {
        addLinkedPair();
        JsonNode links = c.ok("wg link list").get("links");
        assertEquals(1, links.size());
        assertEquals(Set.of("a", "b"), fields(links.get(0)));
        assertEquals("alice", links.get(0).get("a").asText());
        assertEquals("bob", links.get(0).get("b").asText());
        assertEquals("bob", peer("alice").get("linked_to").asText());
        assertEquals("alice", peer("bob").get("linked_to").asText());
        c.ok("wg link remove", "bob", "alice");
        assertEquals(0, c.ok("wg link list").get("links").size());
        assertTrue(peer("alice").get("linked_to").isNull());
    }

    @Test
    void linkAddChecksSelfThenUnknownThenDuplicateThenLimit() throws Exception {
        addLinkedPair();
        assertEquals("wg_link_self", c.error("wg link add", "ghost", "ghost"), "self before unknown");
        assertEquals("wg_link_self", c.error("wg link add", "alice", "alice"), "self before limit");
        assertEquals("wg_peer_unknown", c.error("wg link add", "alice", "ghost"), "unknown before limit");
        assertEquals("wg_peer_unknown", c.error("wg link add", "ghost", "alice"));
        assertEquals("wg_peer_unknown", c.error("wg link add", "ghost", "carol"));
        assertEquals("wg_link_duplicate", c.error("wg link add", "alice", "bob"));
        assertEquals("wg_link_duplicate", c.error("wg link add", "bob", "alice"), "duplicate in either order");
        assertEquals("link_limit_exceeded", c.error("wg link add", "alice", "carol"));
        assertEquals("link_limit_exceeded", c.error("wg link add", "carol", "bob"));
        JsonNode limit = c.call("wg link add", "carol", "alice");
        String message = limit.get("error").get("message").asText();
        assertTrue(message.contains("at most one link"), "the message states the rule: " + message);
        assertTrue(message.contains("alice"), "and names the peer that is taken: " + message);
    }

    @Test
    void linkRemoveOfALinkThatDoesNotExistIsWgLinkUnknown() throws Exception {
        addLinkedPair();
        assertEquals("wg_link_unknown", c.error("wg link remove", "alice", "carol"));
        assertEquals("wg_link_unknown", c.error("wg link remove", "carol", "alice"));
        assertEquals("wg_link_unknown", c.error("wg link remove", "ghost", "spook"));
        assertEquals("wg_link_unknown", c.error("wg link remove", "alice", "alice"));
        c.ok("wg link remove", "alice", "bob");
        assertEquals("wg_link_unknown", c.error("wg link remove", "alice", "bob"));
    }

    // ---- show ---------------------------------------------------------------------------------

    @Test
    void showHasSpecsCountersPortCountsAndXdpOffWithNoXdpCounters() throws Exception {
        addLinkedPair();
        JsonNode show = c.ok("wg show");
        assertEquals(SHOW_FIELDS, fields(show));
        assertEquals("file", show.get("store").asText(), "no --etcd-endpoints: the roster file");
        assertTrue(show.get("store_revision").isNull()
                && show.get("store_connected").isNull());
        assertTrue(
                fields(show).stream()
                        .noneMatch(f -> f.startsWith("xdp_") && !f.equals("xdp_attached") && !f.equals("xdp_mode")),
                "no xdp_* counters while XDP is off");
        assertEquals(relay.daemon.udpPort(), show.get("port").asInt());
        assertEquals(3, show.get("peer_count").asInt());
        assertEquals(1, show.get("link_count").asInt());
        assertTrue(show.get("xdp_attached").isBoolean());
        assertFalse(show.get("xdp_attached").asBoolean());
        assertEquals("off", show.get("xdp_mode").asText());
        for (String counter : SHOW_FIELDS) {
            if (counter.startsWith("drop_") || counter.endsWith("_packets")) {
                assertTrue(show.get(counter).isIntegralNumber(), counter);
                assertEquals(0, show.get(counter).asLong(), counter);
            }
        }
    }

    @Test
    void showConfigRendersAPeerBlockWithThePartnersKeyAndTheGivenRelayEndpoint() throws Exception {
        addLinkedPair();
        c.ok("wg peer pubkey", "alice", KEY_A);
        c.ok("wg peer pubkey", "bob", KEY_B);
        String config = c.ok("wg show config", "alice", "203.0.113.7:51820")
                .get("config")
                .asText();
        assertTrue(config.contains("[Peer]\n"), config);
        assertTrue(config.contains("PublicKey = " + KEY_B + "\n"), "the partner's key: " + config);
        assertFalse(config.contains(KEY_A), "not alice's own key: " + config);
        assertTrue(config.contains("Endpoint = 203.0.113.7:51820\n"), config);
        assertTrue(config.contains("AllowedIPs = "), config);

        String v6 = c.ok("wg show config", "bob", "[2001:db8::7]:51820")
                .get("config")
                .asText();
        assertTrue(v6.contains("PublicKey = " + KEY_A + "\n"), v6);
        assertTrue(v6.contains("Endpoint = [2001:db8::7]:51820\n"), v6);

        String defaultEndpoint = c.ok("wg show config", "alice").get("config").asText();
        assertTrue(
                defaultEndpoint.contains("Endpoint = 127.0.0.1:" + relay.daemon.udpPort() + "\n"),
                "a relay bound to one address names it: " + defaultEndpoint);

        String unlinked = c.ok("wg show config", "carol").get("config").asText();
        assertFalse(unlinked.contains("[Peer]"), "no link, no [Peer] block: " + unlinked);

        assertEquals("wg_peer_unknown", c.error("wg show config", "ghost"));
        assertEquals("invalid_arg", c.error("wg show config", "alice", "relay.example.com:51820"));
        assertEquals("invalid_arg", c.error("wg show config", "alice", "203.0.113.7"));
    }

    @Test
    void showConfigOfARelayOnAWildcardAddressWritesAPlaceholderEndpoint() throws Exception {
        try (LocalRelay wildcard = LocalRelay.boundTo("0.0.0.0");
                RelayClient w = wildcard.client()) {
            w.ok("wg peer add", "alice", "198.51.100.1:51820");
            w.ok("wg peer add", "bob", "198.51.100.2:51820");
            w.ok("wg link add", "alice", "bob");
            String config = w.ok("wg show config", "alice").get("config").asText();
            assertTrue(config.contains("Endpoint = <relay-public-ip>:" + wildcard.daemon.udpPort() + "\n"), config);
            assertTrue(config.contains("PublicKey = "), config);
        }
    }

    @Test
    void showDropSourcesListsEachDroppingSourceWithSpecsFields() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        try (DatagramSocket junk = udpSocket("127.0.0.3");
                DatagramSocket stranger = udpSocket("127.0.0.4");
                DatagramSocket forger = udpSocket("127.0.0.5")) {
            relay.send(junk, new byte[] {1, 2, 3});
            relay.send(junk, new byte[] {9});
            relay.send(stranger, LocalRelay.transport(64, random));
            relay.send(forger, LocalRelay.initiation(random));
            await("four drops", () -> {
                try {
                    JsonNode s = c.ok("wg show");
                    return s.get("drop_not_wg_shaped").asLong()
                                    + s.get("drop_unknown_src").asLong()
                                    + s.get("drop_handshake_no_pubkey_match").asLong()
                            == 4;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        JsonNode sources = c.ok("wg show drop_sources").get("sources");
        assertEquals(3, sources.size());
        for (JsonNode row : sources) {
            assertEquals(
                    Set.of(
                            "ip",
                            "drop_unknown_src",
                            "drop_not_wg_shaped",
                            "drop_handshake_no_pubkey_match",
                            "drop_handshake_rate_limited",
                            "last_seen"),
                    fields(row));
            assertEquals(
                    Instant.ofEpochMilli(LocalRelay.START_MILLIS),
                    Instant.parse(row.get("last_seen").asText()),
                    "last_seen is ISO-8601 UTC from the relay's clock");
            String ip = row.get("ip").asText();
            long[] expected = switch (ip) {
                case "127.0.0.3" -> new long[] {0, 2, 0, 0};
                case "127.0.0.4" -> new long[] {1, 0, 0, 0};
                case "127.0.0.5" -> new long[] {0, 0, 1, 0};
                default -> throw new AssertionError("unexpected source " + ip);
            };
            assertArrayEquals(
                    expected,
                    new long[] {
                        row.get("drop_unknown_src").asLong(),
                        row.get("drop_not_wg_shaped").asLong(),
                        row.get("drop_handshake_no_pubkey_match").asLong(),
                        row.get("drop_handshake_rate_limited").asLong()
                    },
                    ip);
        }
    }

    // ---- blocklist ----------------------------------------------------------------------------

    @Test
    void blocklistAddListAndRemove() throws Exception {
        assertEquals(0, c.ok("wg blocklist list").get("entries").size());
        c.ok("wg blocklist add", "192.0.2.1", "90s");
        c.ok("wg blocklist add", "2001:DB8::1", "1h");
        JsonNode entries = c.ok("wg blocklist list").get("entries");
        assertEquals(2, entries.size());
        for (JsonNode e : entries) {
            assertEquals(Set.of("ip", "seconds_left", "total_strikes"), fields(e));
            assertEquals(0, e.get("total_strikes").asInt());
            switch (e.get("ip").asText()) {
                case "192.0.2.1" -> assertEquals(90, e.get("seconds_left").asInt());
                case "2001:db8::1" -> assertEquals(3600, e.get("seconds_left").asInt());
                default -> throw new AssertionError("unexpected entry " + e);
            }
        }
        relay.clock.addAndGet(30_000);
        assertEquals(60, entry("192.0.2.1").get("seconds_left").asInt(), "seconds_left follows the relay's clock");
        relay.clock.addAndGet(60_000);
        assertEquals(List.of("2001:db8::1"), blockedIps(), "an expired entry is no longer listed");

        c.ok("wg blocklist remove", "2001:db8:0::1");
        assertEquals(List.of(), blockedIps());
        assertEquals("wg_blocklist_unknown", c.error("wg blocklist remove", "2001:db8::1"));
        assertEquals("wg_blocklist_unknown", c.error("wg blocklist remove", "198.51.100.200"));
    }

    private JsonNode entry(String ip) throws IOException {
        for (JsonNode e : c.ok("wg blocklist list").get("entries")) {
            if (e.get("ip").asText().equals(ip)) {
                return e;
            }
        }
        throw new AssertionError("not blocked: " + ip);
    }

    private List<String> blockedIps() throws IOException {
        List<String> ips = new ArrayList<>();
        c.ok("wg blocklist list")
                .get("entries")
                .forEach(e -> ips.add(e.get("ip").asText()));
        return ips;
    }

    @Test
    void blocklistAddTakesSpecsDurationUnitsAndBlocksTraffic() throws Exception {
        c.ok("wg blocklist add", "192.0.2.2", "2m");
        c.ok("wg blocklist add", "192.0.2.3", "1d");
        assertEquals(120, entry("192.0.2.2").get("seconds_left").asInt());
        assertEquals(86_400, entry("192.0.2.3").get("seconds_left").asInt());
        try (DatagramSocket blocked = udpSocket("127.0.0.6")) {
            c.ok("wg blocklist add", "127.0.0.6", "1h");
            relay.send(blocked, LocalRelay.transport(64, random));
            await(
                    "blocklisted drop",
                    () -> relay.daemon.status().show().get("drop_blocklisted").equals(1L));
        }
    }

    @Test
    void blocklistAddRefusesWhatIsNotAnIpOrADuration() throws Exception {
        for (String ip : List.of(
                "example.com",
                "localhost",
                "192.0.2",
                "192.0.2.1.5",
                "192.0.2.1:80",
                "fe80::1%eth0",
                "",
                " 192.0.2.1",
                "[2001:db8::1]",
                "1.2.3.4/24")) {
            assertEquals("invalid_arg", c.error("wg blocklist add", ip, "1h"), "ip '" + ip + "'");
        }
        for (String d : List.of("", "0s", "-5s", "1w", "1.5h", "h", "forever", "9999999999s", "366d", "1h30m")) {
            assertEquals("invalid_arg", c.error("wg blocklist add", "192.0.2.1", d), "duration '" + d + "'");
        }
        assertEquals("invalid_arg", c.error("wg blocklist remove", "nonsense"));
        assertEquals(List.of(), blockedIps());
    }

    @Test
    void blocklistAddOfANumericButInvalidAddressIsRefusedWithoutALookup() throws Exception {
        long start = System.nanoTime();
        assertEquals("invalid_arg", c.error("wg blocklist add", "999.1.1.1", "1h"));
        assertEquals("invalid_arg", c.error("wg blocklist add", "1:2", "1h"));
        assertTrue(System.nanoTime() - start < 2_000_000_000L, "no DNS lookup on the control path");
    }

    // ---- errors of the peer verbs -----------------------------------------------------------

    @Test
    void peerAddRefusesDuplicatesAndBusyEndpoints() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        assertEquals("wg_peer_duplicate", c.error("wg peer add", "alice", "198.51.100.9:1"));
        assertEquals("wg_endpoint_in_use", c.error("wg peer add", "bob", "198.51.100.1:51820"));
        JsonNode busy = c.call("wg peer add", "bob", "198.51.100.1:51820");
        assertTrue(busy.get("error").get("message").asText().contains("alice"), "names the holder: " + busy);
    }

    @Test
    void peerAddRefusesInvalidNamesEndpointsAndLabels() throws Exception {
        for (String ep : List.of(
                "198.51.100.1",
                "198.51.100.1:",
                "198.51.100.1:0",
                "198.51.100.1:65536",
                "198.51.100.1:-1",
                "198.51.100.1:80x",
                "256.1.1.1:80",
                "host.example:80",
                "localhost:80",
                "2001:db8::1:80",
                "[2001:db8::1]",
                "[2001:db8::1]80",
                "[fe80::1%eth0]:80",
                "[198.51.100.1]:80",
                ":80",
                "",
                " 198.51.100.1:80",
                "198.51.100.1:80 ",
                "x".repeat(60_000))) {
            assertEquals("invalid_arg", c.error("wg peer add", "p", ep), "endpoint '" + abbreviate(ep) + "'");
        }
        for (String name :
                List.of("", "a b", "-alice", ".alice", "al/ice", "al\nice", "a".repeat(65), "ålice", "alice\u0000")) {
            assertEquals("invalid_arg", c.error("wg peer add", name, "198.51.100.1:1"), "name '" + name + "'");
        }
        assertEquals("invalid_arg", c.error("wg peer add", "p", "198.51.100.1:1", "x".repeat(201)), "long label");
        assertEquals("invalid_arg", c.error("wg peer add", "p", "198.51.100.1:1", "bell\u0007"), "control char");
        assertEquals("invalid_arg", c.error("wg peer add", "p", "198.51.100.1:1", "nel\u0085"), "C1 control char");
        assertEquals("missing_arg", c.error("wg peer add", "p"));
        assertEquals("missing_arg", c.error("wg peer add"));
        assertEquals(0, c.ok("wg peer list").get("peers").size());
        c.ok("wg peer add", "a".repeat(64), "198.51.100.1:1", "y".repeat(200));
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    @Test
    void aLabelCannotInjectLinesIntoTheRosterFile() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        c.ok("wg peer add", "bob", "198.51.100.2:51820");
        c.ok("wg peer add", "mallory", "198.51.100.3:51820", "x\nlink alice bob\npeer evil 192.0.2.66:1");
        assertEquals(0, c.ok("wg link list").get("links").size());
        assertEquals(3, c.ok("wg peer list").get("peers").size());
        String roster = new String(relay.rosterBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertFalse(roster.lines().anyMatch(l -> l.startsWith("link ") || l.startsWith("peer evil")), roster);
        assertEquals(
                3, org.wgrelay.server.roster.RosterFile.parse(roster, "roster").peerCount());
        assertEquals(
                "x link alice bob peer evil 192.0.2.66:1",
                peer("mallory").get("label").asText());
    }

    @Test
    void peerUpdateRefusesUnknownPeersBusyEndpointsAndBadEndpoints() throws Exception {
        addLinkedPair();
        assertEquals("wg_peer_unknown", c.error("wg peer update", "ghost", "192.0.2.1:1"));
        assertEquals(
                "wg_peer_unknown",
                c.error("wg peer update", "ghost", "not-an-endpoint"),
                "an unknown peer wins over a bad endpoint");
        assertEquals("wg_endpoint_in_use", c.error("wg peer update", "alice", "198.51.100.2:51820"));
        assertEquals("invalid_arg", c.error("wg peer update", "alice", "198.51.100.2"));
        assertEquals("missing_arg", c.error("wg peer update", "alice"));
        assertEquals("invalid_arg", c.error("wg peer update", "alice", "192.0.2.1:1", "extra"));
    }

    @Test
    void peerPubkeyRefusesKeysThatAreNotBase64Of32Bytes() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        byte[] k31 = new byte[31];
        byte[] k33 = new byte[33];
        String urlSafe = Base64.getUrlEncoder().encodeToString(new byte[] {
            -5, -17, -66, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -18, -19, -20,
            -21, -22, -23, -24, -25, -26, -27, -28, -29
        });
        for (String bad : List.of(
                "",
                "abc",
                "not base64 at all!",
                Base64.getEncoder().encodeToString(k31),
                Base64.getEncoder().encodeToString(k33),
                urlSafe,
                KEY_A + KEY_A,
                "*" + KEY_A.substring(1))) {
            assertEquals("invalid_pubkey", c.error("wg peer pubkey", "alice", bad), "key '" + bad + "'");
        }
        assertTrue(peer("alice").get("pubkey").isNull());
        assertEquals("wg_peer_unknown", c.error("wg peer pubkey", "ghost", KEY_A));
    }

    @Test
    void peerNicAndRemoveRefuseUnknownPeersAndBadNics() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        assertEquals("wg_peer_unknown", c.error("wg peer nic", "ghost", "eth0"));
        assertEquals("wg_peer_unknown", c.error("wg peer nic", "ghost"));
        for (String nic : List.of("", "eth/0", "eth 0", "a-very-long-interface-name", "../eth0", "-eth0")) {
            assertEquals("invalid_arg", c.error("wg peer nic", "alice", nic), "nic '" + nic + "'");
        }
        assertTrue(peer("alice").get("nic").isNull());
        assertEquals("wg_peer_unknown", c.error("wg peer remove", "ghost"));
        assertEquals("wg_peer_unknown", c.error("wg peer remove", "ALICE"), "names are case-sensitive");
    }

    // ---- generic errors -------------------------------------------------------------------------

    @Test
    void everyVerbAnswersMissingArgInvalidArgUnknownVerbAndBadRequestAsTheyApply() throws Exception {
        assertEquals("missing_arg", c.error("wg link add", "alice"));
        assertEquals("missing_arg", c.error("wg peer remove"));
        assertEquals("missing_arg", c.error("wg blocklist add", "192.0.2.1"));
        assertEquals("missing_arg", c.error("wg show config"));
        assertEquals("invalid_arg", c.error("wg peer list", "extra"));
        assertEquals("invalid_arg", c.error("wg show", "extra"));
        assertEquals("invalid_arg", c.error("wg link remove", "a", "b", "c"));
        assertEquals("unknown_verb", c.error("wg peer frobnicate"));
        assertEquals("unknown_verb", c.error("wg"));
        assertEquals("unknown_verb", c.error("WG SHOW"));

        c.writeLine("this is not json");
        JsonNode bad = c.readJson();
        assertEquals("bad_request", bad.get("error").get("code").asText());
        assertTrue(bad.get("id").isNull());
        c.writeLine("{\"id\":\"x\",\"verb\":\"wg peer add\",\"args\":[\"alice\",7]}");
        bad = c.readJson();
        assertEquals("bad_request", bad.get("error").get("code").asText());
        assertEquals("x", bad.get("id").asText(), "a parseable id is echoed even for a bad request");
        assertEquals(0, c.ok("wg peer list").get("peers").size(), "and the connection is still usable");
    }

    @Test
    void helpListsEveryVerbAndDescribesOne() throws Exception {
        JsonNode verbs = c.ok("help").get("verbs");
        Set<String> names = new LinkedHashSet<>();
        verbs.forEach(v -> names.add(v.get("verb").asText()));
        assertTrue(
                names.containsAll(List.of(
                        "wg peer add",
                        "wg peer update",
                        "wg peer pubkey",
                        "wg peer nic",
                        "wg peer remove",
                        "wg peer list",
                        "wg link add",
                        "wg link remove",
                        "wg link list",
                        "wg show",
                        "wg show config",
                        "wg show drop_sources",
                        "wg blocklist list",
                        "wg blocklist add",
                        "wg blocklist remove",
                        "help",
                        "subscribe")),
                names.toString());
        assertEquals(18, names.size());
        JsonNode one = c.ok("help", "wg", "link", "add");
        assertEquals(one, c.ok("help", "wg link add"));
        assertTrue(one.get("description").asText().contains("at most one link"));
    }

    @Test
    void operatorVerbsNeedTheTokenWhenTheRelayHasOne() throws Exception {
        String token = "9f2c7e1b-operator";
        try (LocalRelay guarded = LocalRelay.withToken("0.0.0.0", token);
                RelayClient anon = guarded.client();
                RelayClient wrong = guarded.client().token("9f2c7e1b-operatoR");
                RelayClient operator = guarded.client().token(token)) {
            List<String[]> mutations = List.of(
                    new String[] {"wg peer add", "alice", "198.51.100.1:51820"},
                    new String[] {"wg peer update", "alice", "198.51.100.1:51821"},
                    new String[] {"wg peer pubkey", "alice", KEY_A},
                    new String[] {"wg peer nic", "alice", "eth0"},
                    new String[] {"wg link add", "alice", "bob"},
                    new String[] {"wg link remove", "alice", "bob"},
                    new String[] {"wg blocklist add", "192.0.2.1", "1h"},
                    new String[] {"wg blocklist remove", "192.0.2.1"},
                    new String[] {"wg peer remove", "alice"});
            for (String[] m : mutations) {
                String[] args = java.util.Arrays.copyOfRange(m, 1, m.length);
                assertEquals("forbidden", anon.error(m[0], args), m[0] + " without a token");
                assertEquals("forbidden", wrong.error(m[0], args), m[0] + " with a wrong token");
            }
            assertEquals(null, guarded.rosterBytes(), "nothing was written");
            assertEquals(0, anon.ok("wg peer list").get("peers").size());
            operator.ok("wg peer add", "alice", "198.51.100.1:51820");
            operator.ok("wg peer add", "bob", "198.51.100.2:51820");
            operator.ok("wg link add", "alice", "bob");
            operator.ok("wg blocklist add", "192.0.2.1", "1h");
            for (String read : List.of(
                    "wg peer list", "wg link list", "wg show", "wg show drop_sources", "wg blocklist list", "help")) {
                anon.ok(read);
            }
            anon.ok("wg show config", "alice");
            assertTrue(anon.ok("subscribe").get("subscribed").asBoolean());
        }
    }

    // ---- a rejected request changes nothing -----------------------------------------------------

    private record Snapshot(
            String peers, String links, String blocklist, byte[] file, Object fileKey, List<String> dir) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Snapshot s
                    && peers.equals(s.peers)
                    && links.equals(s.links)
                    && blocklist.equals(s.blocklist)
                    && java.util.Arrays.equals(file, s.file)
                    && Objects.equals(fileKey, s.fileKey)
                    && dir.equals(s.dir);
        }

        @Override
        public int hashCode() {
            return peers.hashCode();
        }
    }

    private Snapshot snapshot(RelayClient reader) throws IOException {
        return new Snapshot(
                reader.ok("wg peer list").toString(),
                reader.ok("wg link list").toString(),
                reader.ok("wg blocklist list").toString(),
                relay.rosterBytes(),
                relay.rosterFileKey(),
                relay.dirListing());
    }

    @Test
    void aRejectedRequestChangesNeitherRosterNorRosterFileNorForwarding() throws Exception {
        try (DatagramSocket alice = udpSocket("127.0.0.1");
                DatagramSocket bob = udpSocket("127.0.0.1");
                DatagramSocket carol = udpSocket("127.0.0.1")) {
            c.ok("wg peer add", "alice", endpointOf(alice), "laptop");
            c.ok("wg peer add", "bob", endpointOf(bob));
            c.ok("wg peer add", "carol", endpointOf(carol));
            c.ok("wg peer add", "dave", "198.51.100.4:51820");
            c.ok("wg link add", "alice", "bob");
            c.ok("wg peer pubkey", "carol", KEY_A);
            c.ok("wg peer nic", "carol", "eth1");
            c.ok("wg blocklist add", "192.0.2.77", "1h");
            Snapshot before = snapshot(c);
            assertNotNull(before.file());

            List<String[]> rejected = List.of(
                    new String[] {"wg_peer_duplicate", "wg peer add", "alice", "198.51.100.9:1"},
                    new String[] {"wg_endpoint_in_use", "wg peer add", "eve", endpointOf(bob)},
                    new String[] {"invalid_arg", "wg peer add", "eve", "198.51.100.9"},
                    new String[] {"invalid_arg", "wg peer add", "e ve", "198.51.100.9:1"},
                    new String[] {"invalid_arg", "wg peer add", "eve", "198.51.100.9:1", "\u0001"},
                    new String[] {"wg_peer_unknown", "wg peer update", "eve", "198.51.100.9:1"},
                    new String[] {"wg_endpoint_in_use", "wg peer update", "alice", endpointOf(carol)},
                    new String[] {"invalid_arg", "wg peer update", "alice", "nowhere:1"},
                    new String[] {"invalid_pubkey", "wg peer pubkey", "carol", "short"},
                    new String[] {"wg_peer_unknown", "wg peer pubkey", "eve", KEY_B},
                    new String[] {"wg_peer_unknown", "wg peer nic", "eve", "eth0"},
                    new String[] {"invalid_arg", "wg peer nic", "carol", "bad/nic"},
                    new String[] {"wg_peer_unknown", "wg peer remove", "eve"},
                    new String[] {"wg_link_self", "wg link add", "carol", "carol"},
                    new String[] {"wg_peer_unknown", "wg link add", "carol", "eve"},
                    new String[] {"wg_link_duplicate", "wg link add", "bob", "alice"},
                    new String[] {"link_limit_exceeded", "wg link add", "alice", "carol"},
                    new String[] {"link_limit_exceeded", "wg link add", "dave", "bob"},
                    new String[] {"wg_link_unknown", "wg link remove", "alice", "carol"},
                    new String[] {"wg_blocklist_unknown", "wg blocklist remove", "192.0.2.78"},
                    new String[] {"invalid_arg", "wg blocklist add", "192.0.2.78", "0s"},
                    new String[] {"invalid_arg", "wg blocklist add", "nonsense", "1h"},
                    new String[] {"missing_arg", "wg link add", "carol"},
                    new String[] {"invalid_arg", "wg peer remove", "carol", "dave"},
                    new String[] {"unknown_verb", "wg peer delete", "carol"});
            for (String[] r : rejected) {
                String code = c.error(r[1], java.util.Arrays.copyOfRange(r, 2, r.length));
                assertEquals(r[0], code, String.join(" ", java.util.Arrays.copyOfRange(r, 1, r.length)));
                assertEquals(before, snapshot(c), "state after rejected " + String.join(" ", r));
            }
            c.writeLine("{\"id\":1,\"verb\":\"wg peer remove\",\"args\":[\"alice\"],\"extra\":[}");
            assertEquals("bad_request", c.readJson().get("error").get("code").asText());
            assertEquals(before, snapshot(c));

            // Forwarding is as it was: alice and bob reach each other; carol is still unlinked.
            byte[] there = LocalRelay.transport(100, random);
            relay.send(alice, there);
            assertArrayEquals(there, receive(bob));
            byte[] back = LocalRelay.transport(120, random);
            relay.send(bob, back);
            assertArrayEquals(back, receive(alice));
            relay.send(carol, LocalRelay.transport(64, random));
            await("carol's datagram dropped for no link", () -> peerCounter("carol", "drop_no_link") == 1);
            carol.setSoTimeout(200);
            alice.setSoTimeout(200);
            bob.setSoTimeout(200);
            for (DatagramSocket s : List.of(alice, bob, carol)) {
                try {
                    receive(s);
                    throw new AssertionError("a stray datagram arrived");
                } catch (SocketTimeoutException expected) {
                    // nothing else was forwarded
                }
            }
        }
    }

    @Test
    void aChangeThatCannotBeSavedIsRefusedAndChangesNothing() throws Exception {
        try (DatagramSocket alice = udpSocket("127.0.0.1");
                DatagramSocket bob = udpSocket("127.0.0.1");
                RelayClient sub = relay.client()) {
            c.ok("wg peer add", "alice", endpointOf(alice));
            c.ok("wg peer add", "bob", endpointOf(bob));
            c.ok("wg link add", "alice", "bob");
            sub.ok("subscribe");
            // The roster path becomes a non-empty directory: the atomic rename over it must fail.
            java.nio.file.Files.delete(relay.rosterPath);
            java.nio.file.Files.createDirectory(relay.rosterPath);
            java.nio.file.Files.writeString(relay.rosterPath.resolve("keep"), "x");
            String peers = c.ok("wg peer list").toString();
            List<String> dir = relay.dirListing();

            JsonNode refused = c.call("wg link remove", "alice", "bob");
            assertFalse(refused.get("ok").asBoolean(), refused.toString());
            assertEquals("internal", refused.get("error").get("code").asText());
            assertFalse(
                    c.call("wg peer add", "carol", "198.51.100.3:1").get("ok").asBoolean());
            assertEquals(peers, c.ok("wg peer list").toString(), "the roster in memory is unchanged");
            assertEquals(1, c.ok("wg link list").get("links").size());
            assertEquals(dir, relay.dirListing(), "no temporary file left behind");
            byte[] payload = LocalRelay.transport(64, random);
            relay.send(alice, payload);
            assertArrayEquals(payload, receive(bob), "still forwarding on the old link");

            java.nio.file.Files.delete(relay.rosterPath.resolve("keep"));
            java.nio.file.Files.delete(relay.rosterPath);
            c.ok("wg peer add", "sentinel", "198.51.100.9:9");
            JsonNode event = sub.readJson();
            assertEquals("state.wg.peer_added", event.get("event").asText(), "no event for the refused changes");
            assertEquals("sentinel", event.get("data").get("name").asText());
            assertEquals(
                    3,
                    new org.wgrelay.server.roster.RosterFile(relay.rosterPath)
                            .load()
                            .peerCount());
        }
    }

    private long peerCounter(String name, String counter) {
        try {
            return peer(name).get(counter).asLong();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
