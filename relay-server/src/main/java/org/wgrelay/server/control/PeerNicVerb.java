package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.optional;
import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** {@code wg peer nic name [nic]}: pins or clears the XDP egress NIC. */
final class PeerNicVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg peer nic",
            Role.OPERATOR,
            "Pin the NIC the XDP fast path sends this peer's traffic out of; without a NIC, clear the pin.",
            List.of(required("name", "peer name"), optional("nic", "interface name, e.g. eth1")));

    private final ControlContext ctx;

    PeerNicVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Outcomes.require(ctx.roster().setNic(args.get(0), args.size() > 1 ? args.get(1) : null));
        return Map.of("peer", ctx.status().peer(args.get(0)));
    }
}
