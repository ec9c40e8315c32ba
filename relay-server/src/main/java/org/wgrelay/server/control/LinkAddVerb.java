package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg link add a b}; the roster checks SPEC's order of outcomes, then SPEC B's key rule. */
final class LinkAddVerb implements VerbHandler {
    /** SPEC: one link per peer; {@code wg link add --help} states it. */
    static final String ONE_LINK_RULE = "Each peer is in at most one link, so the destination is unambiguous"
            + " from the source endpoint alone; a second link on either side is link_limit_exceeded."
            + " A relay started with --max-links-per-peer N > 1 allows up to N links per peer; a peer in"
            + " two or more is a hub, routed by MAC1 and session index, and before a peer's second"
            + " link it and all its partners need stamped public keys (else wg_pubkey_required).";

    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg link add",
            Role.OPERATOR,
            "Link two peers so the relay forwards between them. " + ONE_LINK_RULE,
            List.of(required("a", "first peer name"), required("b", "second peer name")));

    private final ControlContext ctx;

    LinkAddVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().addLink(args.get(0), args.get(1)));
        return Map.of("link", Outcomes.link(args.get(0), args.get(1)));
    }
}
