package org.wgrelay.xdp;

import java.util.Map;

/**
 * Everything userspace wants in the BPF maps, as an immutable value: the relay port, the
 * attached NICs, the peers and the blocklist. {@link MapSync} turns the difference
 * between two states into helper commands.
 *
 * @param peers by {@link XdpPeer#key()}
 * @param nics by ifindex
 * @param blocklist IP → seconds left (0 = forever)
 */
public record XdpState(
        int relayPort, Map<Integer, XdpNic> nics, Map<String, XdpPeer> peers, Map<String, Long> blocklist) {

    public XdpState {
        nics = Map.copyOf(nics);
        peers = Map.copyOf(peers);
        blocklist = Map.copyOf(blocklist);
    }

    public static final XdpState EMPTY = new XdpState(0, Map.of(), Map.of(), Map.of());
}
