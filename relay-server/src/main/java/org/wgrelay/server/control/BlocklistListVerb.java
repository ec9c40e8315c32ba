package org.wgrelay.server.control;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;

/** {@code wg blocklist list}: entries that have not expired, with the seconds left. */
final class BlocklistListVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg blocklist list",
            Role.READ,
            "List blocked source IPs with the seconds left and their lifetime strikes.",
            List.of());

    private final ControlContext ctx;

    BlocklistListVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) {
        long now = ctx.clockMillis().getAsLong();
        List<Map<String, Object>> entries = new ArrayList<>();
        for (Blocklist.Entry e : ctx.blocklist().entries(now)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ip", Endpoint.hostText(e.ip()));
            m.put("seconds_left", (e.expiresAtMillis() - now + 999) / 1000);
            m.put("total_strikes", e.totalStrikes());
            entries.add(m);
        }
        return Map.of("entries", entries);
    }
}
