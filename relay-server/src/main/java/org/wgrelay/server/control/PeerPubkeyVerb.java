package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer pubkey name key}: stamps the peer's public key. */
final class PeerPubkeyVerb implements RelayVerb {
    private final ControlContext ctx;

    PeerPubkeyVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.PEER_PUBKEY;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().setPubkey(args.get(0), args.get(1)));
        return Map.of("peer", ctx.status().peer(args.get(0)));
    }
}
