package org.wgrelay.server.control;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.store.RelayInfo;

/** {@code wg relay list} (SPEC C): the live relays of the fleet, from {@code relays/}. */
final class RelayListVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg relay list",
            Role.READ,
            "List the live relays sharing this roster in etcd (id, udp, version, started); without etcd,"
                    + " this relay alone.",
            List.of());

    private final ControlContext ctx;

    RelayListVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) {
        return Map.of(
                "relays",
                ctx.roster().store().relays().stream().map(RelayListVerb::row).toList());
    }

    private static Map<String, Object> row(RelayInfo r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("udp", r.udp());
        m.put("version", r.version());
        m.put("started", r.started());
        return m;
    }
}
