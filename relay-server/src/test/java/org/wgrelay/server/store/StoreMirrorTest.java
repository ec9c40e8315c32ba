package org.wgrelay.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;

/** The roster a set of stored keys describes, including keys no relay of ours would write. */
class StoreMirrorTest {
    private static StoreMirror.Versioned v(String value, long rev) {
        return new StoreMirror.Versioned(value.getBytes(StandardCharsets.UTF_8), rev, rev, 0);
    }

    @Test
    void peersComeInCreationOrderAndLinksAfterThem() {
        StoreMirror m = new StoreMirror(1);
        Map<String, StoreMirror.Versioned> keys = new HashMap<>();
        keys.put("links/alice/bob", v("{}", 9));
        keys.put("peers/zed", v("{\"endpoint\":\"10.0.0.26:1\",\"pubkey\":null,\"label\":\"z\",\"nic\":\"eth0\"}", 2));
        keys.put("peers/bob", v("{\"endpoint\":\"10.0.0.2:2\"}", 5));
        keys.put("peers/alice", v("{\"endpoint\":\"10.0.0.1:1\",\"future_field\":1}", 7));
        m.replace(keys, 9);
        Roster r = m.roster();
        assertEquals(
                List.of("zed", "bob", "alice"),
                r.peers().stream().map(PeerEntry::name).toList());
        assertEquals("eth0", r.peer("zed").nic());
        assertEquals("z", r.peer("zed").label());
        assertNotNull(r.linkBetween("alice", "bob"));
    }

    @Test
    void keysTheRosterRefusesAreLeftOutAndTheRestStands() {
        StoreMirror m = new StoreMirror(1);
        Map<String, StoreMirror.Versioned> keys = new HashMap<>();
        keys.put("peers/alice", v("{\"endpoint\":\"10.0.0.1:1\"}", 1));
        keys.put("peers/bob", v("{\"endpoint\":\"10.0.0.2:2\"}", 2));
        keys.put("peers/carol", v("{\"endpoint\":\"10.0.0.3:3\"}", 3));
        keys.put("peers/mallory", v("{\"endpoint\":\"10.0.0.1:1\"}", 4)); // alice's endpoint
        keys.put("peers/junk", v("not json", 5));
        keys.put("peers/badep", v("{\"endpoint\":\"nowhere\"}", 6));
        keys.put("peers/bad name", v("{}", 7));
        keys.put("links/alice/bob", v("{}", 8));
        keys.put("links/alice/carol", v("{}", 9)); // beyond one link per peer
        keys.put("links/alice/nobody", v("{}", 10));
        keys.put("links/x", v("{}", 11));
        m.replace(keys, 11);
        Roster r = m.roster();
        assertEquals(
                List.of("alice", "bob", "carol"),
                r.peers().stream().map(PeerEntry::name).toList());
        assertNotNull(r.linkBetween("alice", "bob"));
        assertNull(r.linkBetween("alice", "carol"));
        assertEquals(1, r.linkCount());
    }

    @Test
    void aPeerWithoutEndpointIsKeptForEnrollment() {
        StoreMirror m = new StoreMirror(1);
        m.replace(
                Map.of(
                        "peers/dan",
                        v("{\"endpoint\":null,\"pubkey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}", 1)),
                1);
        PeerEntry dan = m.roster().peer("dan");
        assertNull(dan.endpoint());
        assertNotNull(dan.pubkey());
    }
}
