package org.wgrelay.server.control;

import java.util.List;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg show}: the aggregate counters. */
final class ShowVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg show",
            Role.READ,
            "Show the relay's aggregate counters, port, peer and link counts and XDP state.",
            List.of());

    private final ControlContext ctx;

    ShowVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) {
        return ctx.status().show();
    }
}
