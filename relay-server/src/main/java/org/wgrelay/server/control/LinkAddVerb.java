package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;

/** {@code wg link add a b}; the roster checks SPEC's order of outcomes, then SPEC B's key rule. */
final class LinkAddVerb implements VerbHandler {
    /** SPEC: one link per peer; {@code wg link add --help} states it. */
    static final String ONE_LINK_RULE = "Each peer is in at most one link, so the destination is unambiguous"
            + " from the source endpoint alone; a second link on either side is link_limit_exceeded."
            + " A relay started with --max-links-per-peer N > 1 allows up to N links per peer; a peer in"
            + " two or more is a hub, routed by MAC1 and session index, and before a peer's second"
            + " link it and all its partners need stamped public keys (else wg_pubkey_required). A peer"
            + " registered without an endpoint needs its key before it is linked (wg_pubkey_required),"
            + " and the answer warns when its partner has no key, without which its endpoint cannot be learned.";

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
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("link", Outcomes.link(args.get(0), args.get(1)));
        String warning = unlearnable(ctx.roster().roster(), args.get(0), args.get(1));
        if (warning != null) {
            result.put("warning", warning);
        }
        return result;
    }

    /**
     * SPEC E: a peer without an endpoint is learned from an initiation whose MAC1 names its
     * partner, which needs the partner's stamped key. The link stands, but says so.
     */
    static String unlearnable(Roster roster, String a, String b) {
        for (String[] pair : new String[][] {{a, b}, {b, a}}) {
            PeerEntry peer = roster.peer(pair[0]);
            PeerEntry partner = roster.peer(pair[1]);
            if (peer != null && partner != null && peer.endpoint() == null && partner.pubkey() == null) {
                return "'" + peer.name() + "' has no endpoint and '" + partner.name() + "' no stamped key: the relay"
                        + " cannot learn '" + peer.name() + "''s endpoint until '" + partner.name()
                        + "''s key is stamped (wg peer pubkey)";
            }
        }
        return null;
    }
}
