package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg link list}. */
final class LinkListVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec("wg link list", Role.READ, "List the links.", List.of());

    private final ControlContext ctx;

    LinkListVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) {
        return Map.of(
                "links",
                ctx.roster().roster().links().stream()
                        .map(l -> Outcomes.link(l.a(), l.b()))
                        .toList());
    }
}
