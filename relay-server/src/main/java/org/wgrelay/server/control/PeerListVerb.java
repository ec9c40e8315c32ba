package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer list}: every peer with SPEC's per-peer fields. */
final class PeerListVerb implements RelayVerb {
    private final ControlContext ctx;

    PeerListVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.PEER_LIST;
    }

    @Override
    public Object handle(List<String> args) {
        return Map.of("peers", ctx.status().peers());
    }
}
