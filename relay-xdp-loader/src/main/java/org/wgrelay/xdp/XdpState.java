package org.wgrelay.xdp;

import java.util.Map;

/**
 * Everything userspace wants in the BPF maps, as an immutable value: the relay port, the
 * attached NICs, the peers, the hubs' sessions and the blocklist. {@link MapSync} turns
 * the difference between two states into helper commands.
 *
 * @param peers by {@link XdpPeer#key()}
 * @param nics by ifindex
 * @param blocklist IP → seconds left (0 = forever)
 * @param sessions by {@link XdpSession#key()}
 */
public record XdpState(
        int relayPort,
        Map<Integer, XdpNic> nics,
        Map<String, XdpPeer> peers,
        Map<String, Long> blocklist,
        Map<String, XdpSession> sessions) {

    public XdpState {
        nics = Map.copyOf(nics);
        peers = Map.copyOf(peers);
        blocklist = Map.copyOf(blocklist);
        sessions = Map.copyOf(sessions);
    }

    /** A state without hub sessions. */
    public XdpState(int relayPort, Map<Integer, XdpNic> nics, Map<String, XdpPeer> peers, Map<String, Long> blocklist) {
        this(relayPort, nics, peers, blocklist, Map.of());
    }

    public static final XdpState EMPTY = new XdpState(0, Map.of(), Map.of(), Map.of(), Map.of());
}
