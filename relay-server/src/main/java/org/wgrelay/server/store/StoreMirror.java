package org.wgrelay.server.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;

/**
 * This relay's copy of the keys under the prefix, with their revisions, as the watch has
 * delivered them, and the roster they describe. The transactions of this relay's changes are
 * conditioned on the revisions held here, so a change that raced another relay's loses and
 * is retried against the newer state. Writer thread only.
 */
final class StoreMirror {
    private static final Logger LOG = LoggerFactory.getLogger(StoreMirror.class);

    /** One key's value and revisions ({@code lease} 0 when it has none). */
    record Versioned(byte[] value, long createRevision, long modRevision, long lease) {}

    private final Map<String, Versioned> keys = new HashMap<>();
    private final int maxLinksPerPeer;
    private long revision;
    /** Keys skipped when the roster was last built, so each is warned about once. */
    private Set<String> skipped = new HashSet<>();

    StoreMirror(int maxLinksPerPeer) {
        this.maxLinksPerPeer = maxLinksPerPeer;
    }

    long revision() {
        return revision;
    }

    void revision(long atLeast) {
        revision = Math.max(revision, atLeast);
    }

    /** A full sync: every key as read at {@code revision}. */
    void replace(Map<String, Versioned> all, long revision) {
        keys.clear();
        keys.putAll(all);
        this.revision = revision;
    }

    void put(String key, Versioned v) {
        keys.put(key, v);
    }

    Versioned remove(String key) {
        return keys.remove(key);
    }

    Versioned get(String key) {
        return keys.get(key);
    }

    /** The key's mod revision, 0 when it is absent. */
    long modRevision(String key) {
        Versioned v = keys.get(key);
        return v == null ? 0 : v.modRevision();
    }

    /** Keys under {@code dir} (e.g. {@code blocklist/}), in no order. */
    List<Map.Entry<String, Versioned>> under(String dir) {
        List<Map.Entry<String, Versioned>> out = new ArrayList<>();
        for (Map.Entry<String, Versioned> e : keys.entrySet()) {
            if (e.getKey().startsWith(dir)) {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * The roster the keys describe: peers in the order they were created, then links in the
     * order they were made, each through the roster's own checks. A key those checks refuse (a
     * value no relay of ours writes, or a link beyond this relay's {@code --max-links-per-peer})
     * is left out with a warning; the rest of the roster stands.
     */
    Roster roster() {
        Set<String> skippedNow = new HashSet<>();
        Roster.Builder b = Roster.builder(maxLinksPerPeer);
        List<Map.Entry<String, Versioned>> peers = sorted(StoreKeys.PEERS);
        for (Map.Entry<String, Versioned> e : peers) {
            String name = e.getKey().substring(StoreKeys.PEERS.length());
            StoreJson.StoredPeer p = StoreJson.readPeer(e.getValue().value());
            RosterChange added = p == null ? null : b.apply(r -> r.addPeer(name, p.endpoint(), p.pubkey(), p.label()));
            if (added != null && added.ok() && p.nic() != null) {
                added = b.apply(r -> r.setNic(name, p.nic()));
            }
            if (added == null || !added.ok()) {
                skip(skippedNow, e.getKey(), added == null ? "not a peer value" : added.message());
            }
        }
        for (Map.Entry<String, Versioned> e : sorted(StoreKeys.LINKS)) {
            String[] ab = StoreKeys.linkNames(e.getKey());
            RosterChange linked = ab == null ? null : b.apply(r -> r.addLink(ab[0], ab[1]));
            if (linked == null || !linked.ok()) {
                skip(skippedNow, e.getKey(), linked == null ? "not a link key" : linked.message());
            }
        }
        skipped = skippedNow;
        return b.build();
    }

    private void skip(Set<String> skippedNow, String key, String why) {
        skippedNow.add(key);
        if (!skipped.contains(key)) {
            LOG.warn("store key {} left out of the roster: {}", key, why);
        }
    }

    private List<Map.Entry<String, Versioned>> sorted(String dir) {
        List<Map.Entry<String, Versioned>> list = under(dir);
        list.sort(Comparator.comparingLong(
                        (Map.Entry<String, Versioned> e) -> e.getValue().createRevision())
                .thenComparing(Map.Entry::getKey));
        return list;
    }

    /** The key-value pairs that describe {@code roster} (what a change writes). */
    static Map<String, byte[]> keysOf(Roster roster) {
        Map<String, byte[]> out = new HashMap<>();
        for (PeerEntry p : roster.peers()) {
            out.put(StoreKeys.peer(p.name()), StoreJson.peer(p));
            if (p.endpoint() != null) {
                out.put(StoreKeys.endpoint(p.endpoint()), p.name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        for (org.wgrelay.server.roster.Link l : roster.links()) {
            String a = l.a().compareTo(l.b()) < 0 ? l.a() : l.b();
            String b2 = a.equals(l.a()) ? l.b() : l.a();
            out.put(StoreKeys.link(a, b2), StoreJson.link(a, b2));
        }
        return out;
    }

    /** True when the key holds exactly {@code value} (null: the key is absent). */
    boolean holds(String key, byte[] value) {
        Versioned v = keys.get(key);
        return value == null ? v == null : v != null && Arrays.equals(v.value(), value);
    }
}
