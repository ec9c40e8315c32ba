package org.wgrelay.server.store;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;

/**
 * Keeps this relay's blocklist in step with the {@code blocklist/} keys (SPEC C: entries are
 * shared, strikes stay local). A stored entry blocks here until the time it carries; its
 * lease ending (or an operator's remove anywhere) unblocks here. Entries made elsewhere are
 * announced as {@code state.wg.blocklist_*} events; this relay's own were announced when made.
 * Writer thread only.
 */
final class BlocklistMirror {
    private static final Logger LOG = LoggerFactory.getLogger(BlocklistMirror.class);

    private final Blocklist blocklist;
    private final LongSupplier clockMillis;
    private final BiConsumer<String, Object> events;
    private final String relayId;
    /** IPs this relay is removing itself: their delete is not announced a second time. */
    private final Set<InetAddress> ownRemovals = new HashSet<>();

    BlocklistMirror(Blocklist blocklist, LongSupplier clockMillis, BiConsumer<String, Object> events, String relayId) {
        this.blocklist = blocklist;
        this.clockMillis = clockMillis;
        this.events = events;
        this.relayId = relayId;
    }

    void expectOwnRemoval(InetAddress ip) {
        ownRemovals.add(ip);
    }

    /** A {@code blocklist/<ip>} key was put. */
    void put(String relativeKey, byte[] value) {
        InetAddress ip = ipOf(relativeKey);
        StoreJson.StoredBlock b = StoreJson.readBlock(value);
        if (ip == null || b == null) {
            LOG.warn("store key {} is not a blocklist entry; ignored", relativeKey);
            return;
        }
        long now = clockMillis.getAsLong();
        long left =
                b.expiresAtWallMillis() > 0 ? b.expiresAtWallMillis() - System.currentTimeMillis() : b.seconds() * 1000;
        if (left <= 0) {
            return;
        }
        boolean wasBlocked = blocklist.isBlocked(ip, now);
        blocklist.block(ip, now + left, b.strikes());
        if (!wasBlocked && !relayId.equals(b.relayId())) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("ip", Endpoint.hostText(ip));
            data.put("seconds", Math.max(1, left / 1000));
            data.put("total_strikes", b.strikes());
            events.accept("state.wg.blocklist_added", data);
        }
    }

    /** A {@code blocklist/<ip>} key was deleted: its lease ran out or someone removed it. */
    void delete(String relativeKey) {
        InetAddress ip = ipOf(relativeKey);
        if (ip == null) {
            return;
        }
        boolean live = blocklist.isBlocked(ip, clockMillis.getAsLong());
        boolean removed = blocklist.unblock(ip);
        if (ownRemovals.remove(ip) || !removed || !live) {
            return;
        }
        events.accept("state.wg.blocklist_removed", Map.of("ip", Endpoint.hostText(ip)));
    }

    /** After a full sync: what the store no longer holds stops blocking here, except {@code keep}. */
    void retainOnly(Set<InetAddress> stored, Set<InetAddress> keep) {
        for (org.wgrelay.server.blocklist.Blocklist.Entry e : blocklist.entries(clockMillis.getAsLong())) {
            if (!stored.contains(e.ip()) && !keep.contains(e.ip())) {
                blocklist.unblock(e.ip());
            }
        }
    }

    static InetAddress ipOf(String relativeKey) {
        if (!relativeKey.startsWith(StoreKeys.BLOCKLIST)) {
            return null;
        }
        String text = relativeKey.substring(StoreKeys.BLOCKLIST.length());
        // A literal only: never a name lookup for a key someone else wrote.
        if (!text.matches("[0-9A-Fa-f:.]{2,45}")
                || !(text.indexOf(':') >= 0 || text.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
            return null;
        }
        try {
            return Endpoint.normalise(InetAddress.getByName(text));
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
