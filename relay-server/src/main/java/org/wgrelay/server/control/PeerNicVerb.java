package org.wgrelay.server.control;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.VerbCatalog;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer nic name [nic]}: pins or clears the XDP egress NIC. */
final class PeerNicVerb implements RelayVerb {
    private final ControlContext ctx;

    PeerNicVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public VerbSpec spec() {
        return VerbCatalog.PEER_NIC;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().setNic(args.get(0), args.size() > 1 ? args.get(1) : null));
        return Map.of("peer", ctx.status().peer(args.get(0)));
    }
}
