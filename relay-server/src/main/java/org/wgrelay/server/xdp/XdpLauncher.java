package org.wgrelay.server.xdp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roaming.RoamingEngine;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.xdp.AttachResult;
import org.wgrelay.xdp.HelperChannel;
import org.wgrelay.xdp.HelperProcess;

/**
 * Starts the XDP helper and attaches the program; a failure of any kind becomes one
 * {@code xdp_attach_failed} line and a refused start — never a silent fallback to the
 * userspace path.
 */
@FunctionalInterface
public interface XdpLauncher {
    /** Environment variables naming the helper binary and the BPF object (else found under the install). */
    String HELPER_ENV = "WG_RELAY_XDP_HELPER";

    String OBJECT_ENV = "WG_RELAY_XDP_OBJECT";

    /** Opens a helper channel (a real process, or a fake in tests). */
    HelperChannel open() throws IOException;

    /**
     * Opens a helper and attaches to {@code interfaces} in {@code mode}, adopting a program an
     * earlier relay kept there; {@code keepOnExit} leaves it attached when this relay ends.
     * SPEC's failure line on failure.
     */
    default XdpFastPath attach(
            List<String> interfaces,
            XdpMode mode,
            int relayPort,
            ForwardingTableHolder tables,
            Blocklist blocklist,
            RoamingEngine roaming,
            RelayCounters counters,
            boolean keepOnExit,
            LongSupplier clockMillis)
            throws XdpAttachException {
        String first = interfaces.get(0);
        HelperChannel helper;
        try {
            helper = open();
        } catch (IOException e) {
            throw new XdpAttachException(XdpFailureLine.of(first, mode, e.getMessage()));
        }
        XdpFastPath xdp = new XdpFastPath(
                this, helper, interfaces, mode, relayPort, tables, blocklist, counters, keepOnExit, clockMillis);
        AttachResult failed;
        try {
            failed = xdp.attach();
        } catch (IOException e) {
            xdp.close();
            throw new XdpAttachException(XdpFailureLine.of(first, mode, e.getMessage()));
        }
        if (failed != null) {
            xdp.close();
            throw new XdpAttachException(failed.logLine());
        }
        blocklist.addListener(xdp::requestSync);
        roaming.addListener(xdp::requestSync);
        return xdp;
    }

    /** The helper built by {@code make -C bpf}: from the environment, or under the install directory. */
    static XdpLauncher fromEnvironment() {
        return () -> {
            String home = System.getProperty("wg-relay.home", ".");
            Path helper = Path.of(envOr(HELPER_ENV, home + "/bpf/build/wg-relay-xdp-helper"));
            Path object = Path.of(envOr(OBJECT_ENV, home + "/bpf/build/wg_relay.bpf.o"));
            for (Path p : new Path[] {helper, object}) {
                if (!Files.isReadable(p)) {
                    throw new IOException("XDP fast path not built: " + p + " is missing (run make -C bpf)");
                }
            }
            return HelperProcess.start(helper, object);
        };
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
