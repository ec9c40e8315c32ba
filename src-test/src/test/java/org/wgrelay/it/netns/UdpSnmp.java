package org.wgrelay.it.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel's UDP counters from {@code /proc/net/snmp} (per network namespace): what reached
 * a socket at all ({@code InDatagrams}), and what a full receive buffer dropped before any
 * socket saw it ({@code RcvbufErrors}) — the part of a flood a relay cannot count.
 */
public final class UdpSnmp {
    private UdpSnmp() {}

    /** One {@code Udp:} field of a {@code /proc/net/snmp} text. */
    public static long field(String snmp, String name) {
        List<String> udp = snmp.lines().filter(l -> l.startsWith("Udp:")).toList();
        if (udp.size() < 2) {
            throw new IllegalStateException("no Udp lines in /proc/net/snmp:\n" + snmp);
        }
        List<String> names = List.of(udp.get(0).split("\\s+"));
        int at = names.indexOf(name);
        if (at < 0) {
            throw new IllegalStateException("no Udp field " + name + " in /proc/net/snmp:\n" + snmp);
        }
        return Long.parseLong(udp.get(1).split("\\s+")[at]);
    }

    /** {@code RcvbufErrors} in this process's own namespace. */
    public static long receiveBufferErrors() {
        try {
            return field(Files.readString(Path.of("/proc/net/snmp")), "RcvbufErrors");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
