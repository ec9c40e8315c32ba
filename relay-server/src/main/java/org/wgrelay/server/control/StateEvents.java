package org.wgrelay.server.control;

import java.util.LinkedHashMap;
import java.util.Map;
import org.wgrelay.server.roster.Link;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterListener;
import org.wgrelay.server.state.EventSink;

/**
 * Turns each applied roster change into SPEC's {@code state.wg.*} events by comparing
 * the roster before and after — one rule for every source of change (verbs, roaming).
 */
public final class StateEvents implements RosterListener {
    private final EventSink sink;

    public StateEvents(EventSink sink) {
        this.sink = sink;
    }

    @Override
    public void rosterChanged(Roster before, RosterChange change) {
        Roster after = change.roster();
        for (PeerEntry p : before.peers()) {
            if (after.peer(p.name()) == null) {
                sink.publish("state.wg.peer_removed", Map.of("name", p.name()));
            }
        }
        for (Link l : before.links()) {
            if (after.linkBetween(l.a(), l.b()) == null) {
                sink.publish("state.wg.link_removed", Outcomes.link(l.a(), l.b()));
            }
        }
        for (PeerEntry p : after.peers()) {
            PeerEntry old = before.peer(p.name());
            if (old == null) {
                sink.publish("state.wg.peer_added", peer(p));
            } else if (!old.equals(p)) {
                sink.publish("state.wg.peer_updated", peer(p));
            }
        }
        for (Link l : after.links()) {
            if (before.linkBetween(l.a(), l.b()) == null) {
                sink.publish("state.wg.link_added", Outcomes.link(l.a(), l.b()));
            }
        }
    }

    private static Map<String, Object> peer(PeerEntry p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("endpoint", p.endpoint() == null ? null : p.endpoint().toString());
        m.put("pubkey", p.pubkey());
        m.put("label", p.label());
        m.put("nic", p.nic());
        return m;
    }
}
