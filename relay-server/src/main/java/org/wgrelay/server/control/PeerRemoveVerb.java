package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer remove name}: removes the peer and its link. */
final class PeerRemoveVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg peer remove",
            Role.OPERATOR,
            "Remove a peer, and its link if it has one.",
            List.of(required("name", "peer name")));

    private final ControlContext ctx;

    PeerRemoveVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().removePeer(args.get(0)));
        return Map.of("removed", args.get(0));
    }
}
