package org.wgrelay.server.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;

/**
 * The JSON values of SPEC C's keys. Reading is lenient about extra fields (a newer relay may
 * add some) and strict about the ones it needs: a value it cannot use reads as null, and
 * the caller skips the key with a warning rather than failing the whole roster.
 */
final class StoreJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private StoreJson() {}

    /** {@code peers/<name>}: endpoint, pubkey, label, nic (each null when unset). */
    static byte[] peer(PeerEntry p) {
        ObjectNode o = JSON.createObjectNode();
        o.put("endpoint", p.endpoint() == null ? null : p.endpoint().toString());
        o.put("pubkey", p.pubkey());
        o.put("label", p.label());
        o.put("nic", p.nic());
        return bytes(o);
    }

    /** Fields of a stored peer, unvalidated (the roster validates them); null when not an object. */
    record StoredPeer(Endpoint endpoint, String pubkey, String label, String nic) {}

    static StoredPeer readPeer(byte[] value) {
        JsonNode o = tree(value);
        if (o == null || !o.isObject()) {
            return null;
        }
        String endpoint = text(o, "endpoint");
        Endpoint ep = null;
        if (endpoint != null) {
            try {
                ep = Endpoint.parse(endpoint);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return new StoredPeer(ep, text(o, "pubkey"), text(o, "label"), text(o, "nic"));
    }

    static byte[] link(String a, String b) {
        ObjectNode o = JSON.createObjectNode();
        o.put("a", a);
        o.put("b", b);
        return bytes(o);
    }

    /**
     * {@code blocklist/<ip>}: SPEC's strikes and seconds, plus when it expires (wall clock,
     * for a relay that reads it later) and which relay made it (so that relay does not
     * announce its own entry twice).
     */
    static byte[] block(int strikes, long seconds, long expiresAtWallMillis, String relayId) {
        ObjectNode o = JSON.createObjectNode();
        o.put("strikes", strikes);
        o.put("seconds", seconds);
        o.put("expires_at", expiresAtWallMillis);
        o.put("relay", relayId);
        return bytes(o);
    }

    record StoredBlock(int strikes, long seconds, long expiresAtWallMillis, String relayId) {}

    static StoredBlock readBlock(byte[] value) {
        JsonNode o = tree(value);
        if (o == null || !o.isObject() || !o.path("seconds").canConvertToLong()) {
            return null;
        }
        long seconds = o.path("seconds").asLong();
        int strikes = o.path("strikes").asInt(0);
        long expires =
                o.path("expires_at").canConvertToLong() ? o.path("expires_at").asLong() : 0;
        return new StoredBlock(strikes, seconds, expires, text(o, "relay"));
    }

    /** {@code relays/<id>}: udp endpoint, version, started. */
    static byte[] relay(RelayInfo r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("udp", r.udp());
        o.put("version", r.version());
        o.put("started", r.started());
        return bytes(o);
    }

    static RelayInfo readRelay(String id, byte[] value) {
        JsonNode o = tree(value);
        if (o == null || !o.isObject()) {
            return null;
        }
        return new RelayInfo(id, text(o, "udp"), text(o, "version"), text(o, "started"));
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || !v.isTextual() ? null : v.asText();
    }

    private static JsonNode tree(byte[] value) {
        try {
            return JSON.readTree(value);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static byte[] bytes(ObjectNode o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
