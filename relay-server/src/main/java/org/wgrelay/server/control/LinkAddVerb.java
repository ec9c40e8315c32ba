package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg link add a b}; the roster checks SPEC's order of outcomes. */
final class LinkAddVerb implements RelayVerb {
    private final ControlContext ctx;

    LinkAddVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.LINK_ADD;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().addLink(args.get(0), args.get(1)));
        return Map.of("link", Outcomes.link(args.get(0), args.get(1)));
    }
}
