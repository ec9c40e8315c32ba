package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SPEC E through the control channel: peers registered by name and key only. */
class EnrollmentControlTest {
    private LocalRelay relay;
    private RelayClient c;

    private static String key(int n) {
        byte[] k = new byte[32];
        k[0] = (byte) n;
        return Base64.getEncoder().encodeToString(k);
    }

    @BeforeEach
    void start() throws Exception {
        relay = LocalRelay.open();
        c = relay.client();
    }

    @AfterEach
    void stop() throws Exception {
        c.close();
        relay.close();
    }

    private JsonNode peer(String name) throws Exception {
        for (JsonNode p : c.ok("wg peer list").get("peers")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no peer " + name);
    }

    @Test
    void aPeerAddedWithADashHasANullEndpointAndNeedsAKeyBeforeItIsLinked() throws Exception {
        JsonNode added = c.ok("wg peer add", "alice", "-", "laptop");
        assertTrue(added.get("peer").get("endpoint").isNull(), added.toString());
        c.ok("wg peer add", "bob", "198.51.100.2:51820");
        c.ok("wg peer pubkey", "bob", key(2));

        assertEquals("wg_pubkey_required", c.error("wg link add", "alice", "bob"));
        assertEquals(0, c.ok("wg link list").get("links").size());
        c.ok("wg peer pubkey", "alice", key(1));
        JsonNode linked = c.ok("wg link add", "bob", "alice");
        assertFalse(linked.has("warning"), linked.toString());

        String roster = new String(relay.rosterBytes(), StandardCharsets.UTF_8);
        assertTrue(roster.contains("peer alice - " + key(1) + " laptop"), roster);
        String config = c.ok("wg show config", "alice", "203.0.113.1:51820")
                .get("config")
                .asText();
        assertTrue(config.contains("PublicKey = " + key(2)), config);
        assertEquals(0, c.ok("wg show").get("drop_no_endpoint").asLong());
        assertEquals(0, peer("alice").get("drop_no_endpoint").asLong());
    }

    @Test
    void linkingAPeerWithoutEndpointToAKeylessPartnerWarnsThatItCannotBeLearned() throws Exception {
        c.ok("wg peer add", "alice", "-");
        c.ok("wg peer pubkey", "alice", key(1));
        c.ok("wg peer add", "bob", "198.51.100.2:51820");
        JsonNode linked = c.ok("wg link add", "alice", "bob");
        assertTrue(linked.get("warning").asText().contains("'bob''s key"), linked.toString());
    }

    @Test
    void updateWithADashForgetsTheEndpointAndTheRosterKeepsIt() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        c.ok("wg peer update", "alice", "-");
        assertTrue(peer("alice").get("endpoint").isNull());
        c.ok("wg peer add", "carol", "198.51.100.1:51820"); // the endpoint is free again
        assertEquals("wg_peer_unknown", c.error("wg peer update", "nobody", "-"));
        assertEquals("invalid_arg", c.error("wg peer update", "alice", "--"));
    }
}
