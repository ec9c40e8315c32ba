package org.wgrelay.server.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.wgrelay.server.roster.Link;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;

/**
 * One roster change as one etcd transaction: the keys that differ between the roster before
 * and after, each written only if it still has the revision this relay last saw (or, for a
 * new key, only if no one created it meanwhile). That single rule makes SPEC's invariants
 * atomic across relays: a duplicate name or an endpoint in use is a key someone else
 * created first; an unknown peer is a key deleted under us. The link limit needs one more
 * step: a link change rewrites both peers' keys unchanged, so two relays linking the same
 * hub at once conflict on the hub's key and the loser re-checks the limit.
 *
 * @param result the change as this relay validated it, answered when the transaction wins
 */
record TxnPlan(List<Condition> conditions, List<Write> writes, RosterChange result) {

    /** The key must have this mod revision; 0: the key must not exist. */
    record Condition(String key, long modRevision) {}

    /** Put {@code value}, or delete the key when it is null. */
    record Write(String key, byte[] value) {}

    static TxnPlan of(StoreMirror mirror, Roster before, RosterChange change) {
        Map<String, byte[]> was = StoreMirror.keysOf(before);
        Map<String, byte[]> now = StoreMirror.keysOf(change.roster());
        List<Condition> conditions = new ArrayList<>();
        List<Write> writes = new ArrayList<>();
        Set<String> all = new TreeSet<>(was.keySet());
        all.addAll(now.keySet());
        for (String key : all) {
            byte[] a = was.get(key);
            byte[] b = now.get(key);
            if (a != null && b != null && Arrays.equals(a, b)) {
                continue;
            }
            conditions.add(new Condition(key, mirror.modRevision(key)));
            writes.add(new Write(key, b));
        }
        Set<String> touched = new HashSet<>();
        for (String name : linkChangeNames(before, change.roster())) {
            String key = StoreKeys.peer(name);
            byte[] a = was.get(key);
            byte[] b = now.get(key);
            if (a != null && b != null && Arrays.equals(a, b) && touched.add(key)) {
                conditions.add(new Condition(key, mirror.modRevision(key)));
                writes.add(new Write(key, b));
            }
        }
        return new TxnPlan(List.copyOf(conditions), List.copyOf(writes), change);
    }

    /** Names in a link that exists on one side only. */
    private static Set<String> linkChangeNames(Roster before, Roster after) {
        Set<String> names = new TreeSet<>();
        for (Link l : before.links()) {
            if (after.linkBetween(l.a(), l.b()) == null) {
                names.add(l.a());
                names.add(l.b());
            }
        }
        for (Link l : after.links()) {
            if (before.linkBetween(l.a(), l.b()) == null) {
                names.add(l.a());
                names.add(l.b());
            }
        }
        return names;
    }

    boolean isEmpty() {
        return writes.isEmpty();
    }

    /** True when the mirror already holds everything this plan writes (an earlier attempt won). */
    boolean reflectedIn(StoreMirror mirror) {
        for (Write w : writes) {
            if (!mirror.holds(w.key(), w.value())) {
                return false;
            }
        }
        return true;
    }
}
