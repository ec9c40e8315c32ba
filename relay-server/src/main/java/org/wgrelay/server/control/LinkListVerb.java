package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg link list}. */
final class LinkListVerb implements RelayVerb {
    private final ControlContext ctx;

    LinkListVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.LINK_LIST;
    }

    @Override
    public Object handle(List<String> args) {
        return Map.of("links", ctx.roster().roster().links().stream()
                .map(l -> Outcomes.link(l.a(), l.b())).toList());
    }
}
