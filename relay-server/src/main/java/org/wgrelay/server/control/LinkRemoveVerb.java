package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg link remove a b}, names in either order. */
final class LinkRemoveVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg link remove",
            Role.OPERATOR,
            "Remove the link between two peers (names in either order).",
            List.of(required("a", "first peer name"), required("b", "second peer name")));

    private final ControlContext ctx;

    LinkRemoveVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().removeLink(args.get(0), args.get(1)));
        return Map.of("removed", Outcomes.link(args.get(0), args.get(1)));
    }
}
