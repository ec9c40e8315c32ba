package org.wgrelay.server.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Until the XDP fast path ships, a request to attach it fails the start with SPEC's
 * {@code xdp_attach_failed} line, never a silent fallback to userspace.
 */
final class XdpUnavailable {
    private XdpUnavailable() {}

    static String attachFailedLine(String nic, XdpMode mode) {
        Path dev = Path.of("/sys/class/net", nic);
        boolean exists = Files.isDirectory(dev);
        String reason = exists ? "XDP fast path is not built into this version of wg-relay" : "No such device";
        return "xdp_attach_failed iface=" + nic
                + " ifindex=" + read(dev.resolve("ifindex"), "0")
                + " mode=" + mode.word()
                + " driver=" + driver(dev)
                + " kernel=" + kernelRelease()
                + " reason=" + reason;
    }

    private static String driver(Path dev) {
        try {
            return Files.readSymbolicLink(dev.resolve("device/driver")).getFileName().toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "?";
        }
    }

    private static String kernelRelease() {
        return read(Path.of("/proc/sys/kernel/osrelease"), System.getProperty("os.version"));
    }

    private static String read(Path p, String fallback) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            return fallback;
        }
    }
}
