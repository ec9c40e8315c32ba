package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg link remove a b}, names in either order. */
final class LinkRemoveVerb implements RelayVerb {
    private final ControlContext ctx;

    LinkRemoveVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.LINK_REMOVE;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().removeLink(args.get(0), args.get(1)));
        return Map.of("removed", Outcomes.link(args.get(0), args.get(1)));
    }
}
