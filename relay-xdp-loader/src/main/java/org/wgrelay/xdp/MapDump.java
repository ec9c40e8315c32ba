package org.wgrelay.xdp;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The helper's {@code dump} answer as an {@link XdpState}: what the maps hold, in the words
 * {@link MapSync} writes them with, so that a resync of maps that are not empty (a kept
 * program the helper adopted) is a diff and not a clear — kernel forwarding does not pause.
 */
public final class MapDump {
    private MapDump() {}

    /**
     * Parses the lines of a {@code dump} answer (without {@code end}). Blocklist entries past
     * their time are left out: the program ignores them, and a block the model wants is then
     * written again.
     */
    public static XdpState parse(List<String> lines) {
        int port = 0;
        Map<Integer, XdpNic> nics = new HashMap<>();
        Map<String, XdpPeer> peers = new HashMap<>();
        Map<String, Long> blocklist = new HashMap<>();
        Map<String, XdpSession> sessions = new HashMap<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            switch (f[0]) {
                case "config" -> port = Integer.parseInt(f[1]);
                case "nic" -> {
                    int ifindex = Integer.parseInt(f[1]);
                    nics.put(ifindex, new XdpNic(f[2], ifindex, f[3], f[4]));
                }
                case "peer" -> {
                    int flags = Integer.parseInt(f[6]);
                    XdpPeer p = new XdpPeer(
                            f[1],
                            Integer.parseInt(f[2]),
                            f[3],
                            Integer.parseInt(f[4]),
                            Integer.parseInt(f[5]),
                            (flags & XdpPeer.FLAG_PASS) != 0,
                            (flags & XdpPeer.FLAG_BLOCK_CHECK) != 0,
                            (flags & XdpPeer.FLAG_HUB) != 0,
                            (flags & XdpPeer.FLAG_PARTNER_HUB) != 0);
                    peers.put(p.key(), p);
                }
                case "session" -> {
                    XdpSession s = new XdpSession(
                            f[1],
                            Integer.parseInt(f[2]),
                            (int) Long.parseLong(f[3]),
                            f[4],
                            Integer.parseInt(f[5]),
                            Integer.parseInt(f[6]));
                    sessions.put(s.key(), s);
                }
                case "block" -> {
                    if (!f[2].equals("expired")) {
                        blocklist.put(f[1], Long.parseLong(f[2]));
                    }
                }
                default -> {} // the header line, and kinds a later helper may add
            }
        }
        return new XdpState(port, nics, peers, blocklist, sessions);
    }
}
