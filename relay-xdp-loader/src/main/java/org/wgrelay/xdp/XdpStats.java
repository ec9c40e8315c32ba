package org.wgrelay.xdp;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The program's counters as the helper's {@code stats} answer gives them (summed over
 * CPUs): the aggregate ones by name, and per source endpoint ({@code ip port}).
 */
public record XdpStats(Map<String, Long> totals, Map<String, PeerStat> peers) {
    public static final XdpStats EMPTY = new XdpStats(Map.of(), Map.of());

    /** Packets and UDP payload bytes the program received from and forwarded for one source. */
    public record PeerStat(long rxPackets, long rxBytes, long fwdPackets, long fwdBytes) {}

    public long total(String name) {
        return totals.getOrDefault(name, 0L);
    }

    /** Parses the lines of a {@code stats} answer (without {@code end}). */
    public static XdpStats parse(List<String> lines) {
        Map<String, Long> totals = new HashMap<>();
        Map<String, PeerStat> peers = new HashMap<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f[0].equals("stats")) {
                for (int i = 1; i < f.length; i++) {
                    int eq = f[i].indexOf('=');
                    if (eq > 0) {
                        totals.put(f[i].substring(0, eq), Long.parseLong(f[i].substring(eq + 1)));
                    }
                }
            } else if (f[0].equals("peerstat") && f.length == 7) {
                peers.put(
                        f[1] + " " + f[2],
                        new PeerStat(
                                Long.parseLong(f[3]),
                                Long.parseLong(f[4]),
                                Long.parseLong(f[5]),
                                Long.parseLong(f[6])));
            }
        }
        return new XdpStats(Map.copyOf(totals), Map.copyOf(peers));
    }
}
