package org.wgrelay.server.control;

import java.util.List;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg show}: the aggregate counters. */
final class ShowVerb implements RelayVerb {
    private final ControlContext ctx;

    ShowVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.SHOW;
    }

    @Override
    public Object handle(List<String> args) {
        return ctx.status().show();
    }
}
