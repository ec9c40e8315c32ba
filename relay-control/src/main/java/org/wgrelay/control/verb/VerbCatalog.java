package org.wgrelay.control.verb;

import static org.wgrelay.control.verb.ArgSpec.optional;
import static org.wgrelay.control.verb.ArgSpec.optionalRest;
import static org.wgrelay.control.verb.ArgSpec.required;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every verb of SPEC's table, with its role, description and arguments: the single
 * source of truth for the server's dispatch and argument checks, {@code help}, the
 * ctl client's {@code --help}, and {@code docs/control.md}.
 */
public final class VerbCatalog {
    static final String ONE_LINK_RULE = "Each peer is in at most one link, so the destination is unambiguous"
            + " from the source endpoint alone; a second link on either side is link_limit_exceeded.";

    public static final VerbSpec HELP = new VerbSpec("help", Role.READ,
            "List every verb, or describe one verb (given as one argument or as words).",
            List.of(optionalRest("verb", "the verb to describe, e.g. \"wg link add\"")));
    public static final VerbSpec SUBSCRIBE = new VerbSpec("subscribe", Role.READ,
            "Turn this connection into a stream of state.wg.* events, one JSON object per line.", List.of());

    public static final VerbSpec PEER_ADD = new VerbSpec("wg peer add", Role.OPERATOR,
            "Register a peer's public source endpoint under a name.",
            List.of(required("name", "unique peer name: 1-64 of A-Z a-z 0-9 . _ -"),
                    required("endpoint", "the peer's public source ip:port ([addr]:port for IPv6)"),
                    optionalRest("label", "free text for operators")));
    public static final VerbSpec PEER_UPDATE = new VerbSpec("wg peer update", Role.OPERATOR,
            "Move a peer's registered endpoint.",
            List.of(required("name", "peer name"), required("endpoint", "the new ip:port")));
    public static final VerbSpec PEER_PUBKEY = new VerbSpec("wg peer pubkey", Role.OPERATOR,
            "Stamp a peer's WireGuard public key (enables MAC1 checks and roaming for its link).",
            List.of(required("name", "peer name"), required("pubkey", "base64 of the 32-byte public key")));
    public static final VerbSpec PEER_NIC = new VerbSpec("wg peer nic", Role.OPERATOR,
            "Pin the NIC the XDP fast path sends this peer's traffic out of; without a NIC, clear the pin.",
            List.of(required("name", "peer name"), optional("nic", "interface name, e.g. eth1")));
    public static final VerbSpec PEER_REMOVE = new VerbSpec("wg peer remove", Role.OPERATOR,
            "Remove a peer, and its link if it has one.", List.of(required("name", "peer name")));
    public static final VerbSpec PEER_LIST = new VerbSpec("wg peer list", Role.READ,
            "List the peers with their endpoints, keys, links and counters.", List.of());
    public static final VerbSpec LINK_ADD = new VerbSpec("wg link add", Role.OPERATOR,
            "Link two peers so the relay forwards between them. " + ONE_LINK_RULE,
            List.of(required("a", "first peer name"), required("b", "second peer name")));
    public static final VerbSpec LINK_REMOVE = new VerbSpec("wg link remove", Role.OPERATOR,
            "Remove the link between two peers (names in either order).",
            List.of(required("a", "first peer name"), required("b", "second peer name")));
    public static final VerbSpec LINK_LIST = new VerbSpec("wg link list", Role.READ, "List the links.", List.of());
    public static final VerbSpec SHOW = new VerbSpec("wg show", Role.READ,
            "Show the relay's aggregate counters, port, peer and link counts and XDP state.", List.of());
    public static final VerbSpec SHOW_CONFIG = new VerbSpec("wg show config", Role.READ,
            "Render a ready-to-paste wg-quick [Peer] block for each of the peer's links.",
            List.of(required("name", "peer name"),
                    optional("relay", "the relay's public ip:port to put in Endpoint")));
    public static final VerbSpec SHOW_DROP_SOURCES = new VerbSpec("wg show drop_sources", Role.READ,
            "Show the source IPs with the most recent drops (at most 256).", List.of());
    public static final VerbSpec BLOCKLIST_LIST = new VerbSpec("wg blocklist list", Role.READ,
            "List blocked source IPs with the seconds left and their lifetime strikes.", List.of());
    public static final VerbSpec BLOCKLIST_ADD = new VerbSpec("wg blocklist add", Role.OPERATOR,
            "Block a source IP for a while.",
            List.of(required("ip", "IPv4 or IPv6 address"),
                    required("duration", "how long: a number with s, m, h or d, e.g. 90s or 1h")));
    public static final VerbSpec BLOCKLIST_REMOVE = new VerbSpec("wg blocklist remove", Role.OPERATOR,
            "Unblock a source IP.", List.of(required("ip", "IPv4 or IPv6 address")));

    /** All verbs in the order help lists them. */
    public static final List<VerbSpec> ALL = List.of(HELP, SUBSCRIBE, PEER_ADD, PEER_UPDATE, PEER_PUBKEY, PEER_NIC,
            PEER_REMOVE, PEER_LIST, LINK_ADD, LINK_REMOVE, LINK_LIST, SHOW, SHOW_CONFIG, SHOW_DROP_SOURCES,
            BLOCKLIST_LIST, BLOCKLIST_ADD, BLOCKLIST_REMOVE);

    private static final Map<String, VerbSpec> BY_NAME = new LinkedHashMap<>();

    static {
        for (VerbSpec v : ALL) {
            BY_NAME.put(v.verb(), v);
        }
    }

    private VerbCatalog() {}

    /** The verb with exactly this name, or null. */
    public static VerbSpec find(String verb) {
        return BY_NAME.get(verb);
    }

    /**
     * The longest verb that is a prefix of {@code words}, or null: how the ctl client
     * tells {@code wg show config alice} (verb + arg) from {@code wg show} (verb).
     */
    public static VerbSpec longestPrefix(List<String> words) {
        for (int n = Math.min(words.size(), 4); n > 0; n--) {
            VerbSpec v = BY_NAME.get(String.join(" ", words.subList(0, n)));
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}
