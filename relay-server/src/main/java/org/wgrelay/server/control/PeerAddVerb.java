package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer add name ip:port [label]}. */
final class PeerAddVerb implements RelayVerb {
    private final ControlContext ctx;

    PeerAddVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.PEER_ADD;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        String label = args.size() > 2 ? args.get(2) : null;
        Outcomes.require(ctx.roster().addPeer(args.get(0), Outcomes.endpoint(args.get(1)), null, label));
        return Map.of("peer", ctx.status().peer(args.get(0)));
    }
}
