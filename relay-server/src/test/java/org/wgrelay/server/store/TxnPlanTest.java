package org.wgrelay.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;

/** The transaction a roster change becomes: which keys it writes and on what it is conditioned. */
class TxnPlanTest {
    private static final String KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    /** A mirror holding exactly the keys of {@code roster}, each created at its own revision. */
    private static StoreMirror mirrorOf(Roster roster) {
        StoreMirror m = new StoreMirror(roster.maxLinksPerPeer());
        Map<String, StoreMirror.Versioned> all = new HashMap<>();
        long rev = 10;
        for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(StoreMirror.keysOf(roster)).entrySet()) {
            all.put(e.getKey(), new StoreMirror.Versioned(e.getValue(), rev, rev, 0));
            rev++;
        }
        m.replace(all, rev);
        return m;
    }

    private static Roster pair() {
        Roster.Builder b = Roster.builder(2);
        b.apply(r -> r.addPeer("alice", Endpoint.parse("10.0.0.1:1000"), KEY, null));
        b.apply(r -> r.addPeer("bob", Endpoint.parse("10.0.0.2:2000"), null, null));
        return b.build();
    }

    private static TxnPlan.Condition condition(TxnPlan plan, String key) {
        return plan.conditions().stream()
                .filter(c -> c.key().equals(key))
                .findFirst()
                .orElse(null);
    }

    private static TxnPlan.Write write(TxnPlan plan, String key) {
        return plan.writes().stream()
                .filter(w -> w.key().equals(key))
                .findFirst()
                .orElse(null);
    }

    @Test
    void addingAPeerCreatesItsNameAndEndpointKeysOnlyIfNobodyHasThem() {
        Roster before = pair();
        StoreMirror mirror = mirrorOf(before);
        TxnPlan plan = TxnPlan.of(mirror, before, before.addPeer("carol", Endpoint.parse("10.0.0.3:3000"), null, null));
        assertEquals(2, plan.writes().size(), plan.toString());
        assertEquals(0, condition(plan, "peers/carol").modRevision(), "a duplicate name is a key someone created");
        assertEquals(0, condition(plan, "endpoints/10.0.0.3:3000").modRevision(), "an endpoint in use likewise");
        assertArrayEquals(
                "carol".getBytes(StandardCharsets.UTF_8),
                write(plan, "endpoints/10.0.0.3:3000").value());
    }

    @Test
    void movingAPeerIsConditionedOnItsRevisionAndReleasesTheOldEndpoint() {
        Roster before = pair();
        StoreMirror mirror = mirrorOf(before);
        TxnPlan plan = TxnPlan.of(mirror, before, before.updateEndpoint("bob", Endpoint.parse("10.0.0.9:9000")));
        assertEquals(
                mirror.modRevision("peers/bob"), condition(plan, "peers/bob").modRevision());
        assertTrue(mirror.modRevision("peers/bob") > 0);
        assertNull(write(plan, "endpoints/10.0.0.2:2000").value(), "the old endpoint key is deleted");
        assertEquals(
                mirror.modRevision("endpoints/10.0.0.2:2000"),
                condition(plan, "endpoints/10.0.0.2:2000").modRevision());
        assertEquals(0, condition(plan, "endpoints/10.0.0.9:9000").modRevision());
        assertNull(condition(plan, "peers/alice"), "an untouched peer is not part of the transaction");
    }

    @Test
    void aLinkChangeRewritesBothPeersSoConcurrentLinksOnOnePeerConflict() {
        Roster before = pair();
        StoreMirror mirror = mirrorOf(before);
        TxnPlan plan = TxnPlan.of(mirror, before, before.addLink("alice", "bob"));
        assertEquals(0, condition(plan, "links/alice/bob").modRevision());
        for (String peer : List.of("peers/alice", "peers/bob")) {
            assertEquals(mirror.modRevision(peer), condition(plan, peer).modRevision(), peer);
            assertArrayEquals(mirror.get(peer).value(), write(plan, peer).value(), "rewritten unchanged: " + peer);
        }
        Roster linked = before.addLink("alice", "bob").roster();
        TxnPlan removal = TxnPlan.of(mirrorOf(linked), linked, linked.removeLink("bob", "alice"));
        assertNull(write(removal, "links/alice/bob").value());
        assertTrue(condition(removal, "peers/alice") != null && condition(removal, "peers/bob") != null);
    }

    @Test
    void removingAPeerDeletesItsEndpointAndLinksToo() {
        Roster linked = pair().addLink("alice", "bob").roster();
        StoreMirror mirror = mirrorOf(linked);
        TxnPlan plan = TxnPlan.of(mirror, linked, linked.removePeer("alice"));
        for (String key : List.of("peers/alice", "endpoints/10.0.0.1:1000", "links/alice/bob")) {
            assertNull(write(plan, key).value(), key);
            assertEquals(mirror.modRevision(key), condition(plan, key).modRevision(), key);
        }
    }

    @Test
    void aPlanIsReflectedOnlyOnceTheMirrorHoldsEveryWrite() {
        Roster before = pair();
        StoreMirror mirror = mirrorOf(before);
        RosterChange change = before.addPeer("carol", null, KEY, "lab");
        TxnPlan plan = TxnPlan.of(mirror, before, change);
        assertFalse(plan.reflectedIn(mirror));
        StoreMirror after = mirrorOf(change.roster());
        assertTrue(plan.reflectedIn(after));
    }
}
