package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.optional;
import static org.wgrelay.control.verb.ArgSpec.required;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterOutcome;

/**
 * {@code wg show config name [relay ip:port]}: the wg-quick {@code [Peer]} block the
 * named peer pastes into its own config for each of its links (a hub: one per partner, in
 * name order) — the partner's key,
 * and the relay as the endpoint. Without a relay endpoint argument, a relay bound to
 * a wildcard address writes the placeholder {@code <relay-public-ip>:<port>}.
 */
final class ShowConfigVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg show config",
            Role.READ,
            "Render a ready-to-paste wg-quick [Peer] block for each of the peer's links.",
            List.of(required("name", "peer name"), optional("relay", "the relay's public ip:port to put in Endpoint")));

    /** Keeps the peer's NAT mapping, and so its registered endpoint, alive. */
    static final int KEEPALIVE_SECONDS = 25;

    private final ControlContext ctx;

    ShowConfigVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        Roster roster = ctx.roster().roster();
        String name = args.get(0);
        PeerEntry peer = roster.peer(name);
        if (peer == null) {
            throw new ControlException(RosterOutcome.PEER_UNKNOWN.code(), "no peer named '" + name + "'");
        }
        String relay = args.size() > 1 ? Outcomes.endpoint(args.get(1)).toString() : defaultRelayEndpoint();
        List<String> partners = roster.partnersOf(name);
        StringBuilder config = new StringBuilder();
        if (partners.isEmpty()) {
            config.append("# ").append(name).append(" has no link yet: nothing to configure\n");
        }
        for (String partnerName : partners) {
            // SPEC B: a hub gets one block per partner, a spoke its hub's; each block the same shape.
            if (config.length() > 0) {
                config.append('\n');
            }
            PeerEntry partner = roster.peer(partnerName);
            config.append("[Peer]\n")
                    .append("# ")
                    .append(partner.name())
                    .append(", through wg-relay\n")
                    .append("PublicKey = ")
                    .append(partner.pubkey() == null ? "<" + partner.name() + "-public-key>" : partner.pubkey())
                    .append('\n')
                    .append("AllowedIPs = <")
                    .append(partner.name())
                    .append("-tunnel-address>/32\n")
                    .append("Endpoint = ")
                    .append(relay)
                    .append('\n')
                    .append("PersistentKeepalive = ")
                    .append(KEEPALIVE_SECONDS)
                    .append('\n');
        }
        return Map.of("config", config.toString());
    }

    private String defaultRelayEndpoint() {
        InetSocketAddress relay = ctx.relayAddress();
        if (relay.getAddress().isAnyLocalAddress()) {
            return "<relay-public-ip>:" + relay.getPort();
        }
        return Endpoint.format(relay.getAddress(), relay.getPort());
    }
}
