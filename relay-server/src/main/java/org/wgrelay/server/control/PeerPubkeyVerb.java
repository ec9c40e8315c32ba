package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer pubkey name key}: stamps the peer's public key. */
final class PeerPubkeyVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg peer pubkey",
            Role.OPERATOR,
            "Stamp a peer's WireGuard public key (enables MAC1 checks and roaming for its link).",
            List.of(required("name", "peer name"), required("pubkey", "base64 of the 32-byte public key")));

    private final ControlContext ctx;

    PeerPubkeyVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().setPubkey(args.get(0), args.get(1)));
        return Map.of("peer", ctx.status().peer(args.get(0)));
    }
}
