package org.wgrelay.server.daemon;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import org.wgrelay.server.xdp.XdpMode;

/**
 * The validated options of {@code wg-relay serve} (SPEC "Daemon command line").
 *
 * @param controlToken the operator token read from {@code --control-token-file}, or null
 */
public record ServeConfig(
        InetAddress bind,
        int port,
        int workers,
        Path roster,
        HostPort control,
        String controlToken,
        HostPort metrics,
        List<String> xdpInterfaces,
        XdpMode xdpMode,
        boolean traceForwardHashes) {

    /** True when the options ask for an XDP attach. */
    public boolean wantsXdp() {
        return !xdpInterfaces.isEmpty() && xdpMode != XdpMode.OFF;
    }
}
