package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code subscribe}: every change made on another connection arrives as one
 * {@code {"event": "state.wg.*", "data": {...}}} line, in order; a rejected request
 * sends nothing.
 */
class StateEventsTest {
    private static final String KEY = ControlVerbsTest.key(5);

    private static JsonNode next(RelayClient sub, String event) throws IOException {
        JsonNode e = sub.readJson();
        List<String> fields = new java.util.ArrayList<>();
        e.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("event", "data"), fields, e.toString());
        assertEquals(event, e.get("event").asText(), e.toString());
        return e.get("data");
    }

    @Test
    void subscriberSeesEveryKindOfChangeMadeOnAnotherConnection() throws Exception {
        try (LocalRelay relay = LocalRelay.open();
                RelayClient sub = relay.client();
                RelayClient op = relay.client()) {
            JsonNode ack = sub.ok("subscribe");
            assertTrue(ack.get("subscribed").asBoolean());

            op.ok("wg peer add", "alice", "198.51.100.1:51820", "home");
            JsonNode added = next(sub, "state.wg.peer_added");
            assertEquals("alice", added.get("name").asText());
            assertEquals("198.51.100.1:51820", added.get("endpoint").asText());
            assertEquals("home", added.get("label").asText());
            op.ok("wg peer add", "bob", "198.51.100.2:51820");
            assertEquals("bob", next(sub, "state.wg.peer_added").get("name").asText());

            op.ok("wg link add", "alice", "bob");
            JsonNode link = next(sub, "state.wg.link_added");
            assertEquals("alice", link.get("a").asText());
            assertEquals("bob", link.get("b").asText());

            op.ok("wg peer pubkey", "alice", KEY);
            JsonNode keyed = next(sub, "state.wg.peer_updated");
            assertEquals("alice", keyed.get("name").asText());
            assertEquals(KEY, keyed.get("pubkey").asText());
            op.ok("wg peer update", "bob", "198.51.100.22:4500");
            assertEquals(
                    "198.51.100.22:4500",
                    next(sub, "state.wg.peer_updated").get("endpoint").asText());
            op.ok("wg peer nic", "bob", "eth1");
            assertEquals("eth1", next(sub, "state.wg.peer_updated").get("nic").asText());

            op.ok("wg link remove", "bob", "alice");
            JsonNode unlinked = next(sub, "state.wg.link_removed");
            assertEquals("alice", unlinked.get("a").asText());
            assertEquals("bob", unlinked.get("b").asText());

            op.ok("wg blocklist add", "192.0.2.9", "90s");
            JsonNode blocked = next(sub, "state.wg.blocklist_added");
            assertEquals("192.0.2.9", blocked.get("ip").asText());
            op.ok("wg blocklist remove", "192.0.2.9");
            assertEquals(
                    "192.0.2.9",
                    next(sub, "state.wg.blocklist_removed").get("ip").asText());

            op.ok("wg link add", "bob", "alice");
            next(sub, "state.wg.link_added");
            op.ok("wg peer remove", "alice");
            Map<String, JsonNode> removal = new HashMap<>();
            for (int i = 0; i < 2; i++) {
                JsonNode e = sub.readJson();
                removal.put(e.get("event").asText(), e.get("data"));
            }
            assertEquals(
                    "alice", removal.get("state.wg.peer_removed").get("name").asText(), removal.toString());
            JsonNode goneLink = removal.get("state.wg.link_removed");
            assertEquals(
                    java.util.Set.of("alice", "bob"),
                    java.util.Set.of(
                            goneLink.get("a").asText(), goneLink.get("b").asText()),
                    "removing a peer also announces its link's removal");
        }
    }

    @Test
    void rejectedRequestsAndReadsSendNoEventsAndEverySubscriberSeesTheSameOrder() throws Exception {
        try (LocalRelay relay = LocalRelay.open();
                RelayClient s1 = relay.client();
                RelayClient s2 = relay.client();
                RelayClient op = relay.client()) {
            s1.ok("subscribe");
            s2.ok("subscribe");
            op.ok("wg peer add", "alice", "198.51.100.1:51820");
            op.error("wg peer add", "alice", "198.51.100.9:1");
            op.error("wg peer add", "eve", "198.51.100.1:51820");
            op.error("wg link add", "alice", "alice");
            op.error("wg link remove", "alice", "ghost");
            op.error("wg blocklist remove", "192.0.2.1");
            op.error("wg peer pubkey", "alice", "short");
            op.ok("wg peer update", "alice", "198.51.100.1:51820"); // no change, no event
            op.ok("wg peer list");
            op.ok("wg show");
            op.ok("wg peer add", "sentinel", "198.51.100.3:51820");
            for (RelayClient s : List.of(s1, s2)) {
                assertEquals("alice", next(s, "state.wg.peer_added").get("name").asText());
                assertEquals(
                        "sentinel",
                        next(s, "state.wg.peer_added").get("name").asText(),
                        "nothing between the two additions");
            }
        }
    }
}
