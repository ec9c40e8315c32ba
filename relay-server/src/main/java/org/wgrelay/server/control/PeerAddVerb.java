package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.optionalRest;
import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer add name ip:port|- [label]}; {@code -}: the relay learns the endpoint (SPEC E). */
final class PeerAddVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg peer add",
            Role.OPERATOR,
            "Register a peer under a name, with its public source endpoint, or with - to let the relay learn"
                    + " it from the peer's first handshake (stamp its key with wg peer pubkey before linking).",
            List.of(
                    required("name", "unique peer name: 1-64 of A-Z a-z 0-9 . _ -"),
                    required(
                            "endpoint",
                            "the peer's public source ip:port ([addr]:port for IPv6), or - when nobody knows it"),
                    optionalRest("label", "free text for operators")));

    private final ControlContext ctx;

    PeerAddVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        String label = args.size() > 2 ? args.get(2) : null;
        Outcomes.require(ctx.roster().addPeer(args.get(0), Outcomes.endpointOrNone(args.get(1)), null, label));
        return Map.of("peer", ctx.status().peer(args.get(0)));
    }
}
