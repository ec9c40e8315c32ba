package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.roster.Endpoint;

/** {@code wg blocklist remove ip}. */
final class BlocklistRemoveVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg blocklist remove",
            Role.OPERATOR,
            "Unblock a source IP.",
            List.of(required("ip", "IPv4 or IPv6 address")));

    static final String BLOCKLIST_UNKNOWN = "wg_blocklist_unknown";

    private final ControlContext ctx;

    BlocklistRemoveVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        InetAddress ip = Outcomes.ip(args.get(0));
        if (!Outcomes.storeWrite(() -> ctx.roster().store().unblock(ip))) {
            throw new ControlException(BLOCKLIST_UNKNOWN, Endpoint.hostText(ip) + " is not on the blocklist");
        }
        Map<String, Object> result = Map.of("ip", Endpoint.hostText(ip));
        ctx.events().publish("state.wg.blocklist_removed", result);
        return Map.of("removed", Endpoint.hostText(ip));
    }
}
