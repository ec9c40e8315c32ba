package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer remove name}: removes the peer and its link. */
final class PeerRemoveVerb implements RelayVerb {
    private final ControlContext ctx;

    PeerRemoveVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.PEER_REMOVE;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().removePeer(args.get(0)));
        return Map.of("removed", args.get(0));
    }
}
