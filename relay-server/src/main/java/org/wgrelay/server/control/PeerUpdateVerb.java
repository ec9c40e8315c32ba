package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.roster.RosterNames;
import org.wgrelay.server.roster.RosterOutcome;

/** {@code wg peer update name ip:port}: moves a peer's endpoint. */
final class PeerUpdateVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg peer update",
            Role.OPERATOR,
            "Move a peer's registered endpoint, or with - forget it so the relay learns it again.",
            List.of(required("name", "peer name"), required("endpoint", "the new ip:port, or -")));

    private final ControlContext ctx;

    PeerUpdateVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        if (ctx.roster().roster().peer(args.get(0)) == null) {
            // SPEC lists wg_peer_unknown first: an unknown peer wins over a bad endpoint.
            throw new ControlException(
                    RosterOutcome.PEER_UNKNOWN.code(), "no peer named '" + RosterNames.printable(args.get(0)) + "'");
        }
        Outcomes.require(ctx.roster().updateEndpoint(args.get(0), Outcomes.endpointOrNone(args.get(1))));
        return Map.of("peer", ctx.status().peer(args.get(0)));
    }
}
