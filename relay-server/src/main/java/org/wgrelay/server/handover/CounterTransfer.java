package org.wgrelay.server.handover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.state.RosterService;

/**
 * Counters continue across a takeover (SPEC D): the old relay sends its totals, aggregate and
 * per peer, by their SPEC names once it stopped reading; the new one adds them to its owner
 * stripe. A counter or peer the new relay does not know is ignored.
 */
public final class CounterTransfer {
    private CounterTransfer() {}

    /** {@code {"counters":{name:n},"peers":{peer:{name:n}}}}; any thread (the sums are opaque reads). */
    public static ObjectNode snapshot(RelayCounters counters, RosterService roster) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode aggregate = out.putObject("counters");
        for (RelayCounter c : RelayCounter.values()) {
            aggregate.put(c.key(), counters.get(c));
        }
        ObjectNode peers = out.putObject("peers");
        for (PeerEntry p : roster.roster().peers()) {
            PeerStats stats = roster.statsOf(p.name());
            if (stats == null) {
                continue;
            }
            ObjectNode one = peers.putObject(p.name());
            for (PeerCounter c : PeerCounter.values()) {
                one.put(c.key(), stats.get(c));
            }
        }
        return out;
    }

    /** Adds {@code snapshot} to this relay's counters. Owner thread only. */
    public static void restore(JsonNode snapshot, RelayCounters counters, RosterService roster) {
        JsonNode aggregate = snapshot.path("counters");
        for (RelayCounter c : RelayCounter.values()) {
            long v = aggregate.path(c.key()).asLong(0);
            if (v > 0) {
                counters.add(counters.ownerStripe(), c, v);
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = snapshot.path("peers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> peer = it.next();
            PeerStats stats = roster.statsOf(peer.getKey());
            if (stats == null) {
                continue;
            }
            for (PeerCounter c : PeerCounter.values()) {
                long v = peer.getValue().path(c.key()).asLong(0);
                if (v > 0) {
                    stats.inherit(c, v);
                }
            }
        }
    }
}
