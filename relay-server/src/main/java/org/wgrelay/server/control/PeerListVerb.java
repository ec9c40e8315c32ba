package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer list}: every peer with SPEC's per-peer fields. */
final class PeerListVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg peer list", Role.READ, "List the peers with their endpoints, keys, links and counters.", List.of());

    private final ControlContext ctx;

    PeerListVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) {
        return Map.of("peers", ctx.status().peers());
    }
}
