package org.wgrelay.server.control;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;

/** {@code wg blocklist list}: entries that have not expired, with the seconds left. */
final class BlocklistListVerb implements RelayVerb {
    private final ControlContext ctx;

    BlocklistListVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.BLOCKLIST_LIST;
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
