package org.wgrelay.server.xdp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * SPEC's {@code xdp_attach_failed} line for failures that happen before the helper can
 * answer for itself (helper missing, helper failed to start): the same fields, read
 * from {@code /sys/class/net} and {@code /proc} the way the helper reads them.
 */
public final class XdpFailureLine {
    private XdpFailureLine() {}

    public static String of(String nic, XdpMode mode, String reason) {
        Path dev = Path.of("/sys/class/net", nic);
        return "xdp_attach_failed iface=" + nic
                + " ifindex=" + read(dev.resolve("ifindex"), "0")
                + " mode=" + mode.word()
                + " driver=" + driver(dev)
                + " kernel=" + read(Path.of("/proc/sys/kernel/osrelease"), System.getProperty("os.version"))
                + " reason=" + reason;
    }

    private static String driver(Path dev) {
        try {
            return Files.readSymbolicLink(dev.resolve("device/driver"))
                    .getFileName()
                    .toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "?";
        }
    }

    private static String read(Path p, String fallback) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            return fallback;
        }
    }
}
