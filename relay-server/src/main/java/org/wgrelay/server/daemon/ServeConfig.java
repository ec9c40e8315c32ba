package org.wgrelay.server.daemon;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import org.wgrelay.server.store.EtcdSettings;
import org.wgrelay.server.xdp.XdpMode;

/**
 * The validated options of {@code wg-relay serve} (SPEC "Daemon command line").
 *
 * @param controlToken the operator token read from {@code --control-token-file}, or null
 * @param maxLinksPerPeer {@code --max-links-per-peer} (SPEC B): 1 keeps one link per peer
 * @param etcd SPEC C's store options, or null for the roster file alone
 * @param xdpKeepOnExit {@code --xdp-keep-on-exit} (SPEC D): the XDP program stays attached
 *     (and pinned) when the relay ends, and the kernel forwards on until the next relay adopts it
 * @param udpGso {@code --udp-gso}: datagrams a read batch sends to one recipient leave as UDP GSO
 *     groups ({@code SegmentBatcher})
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
        boolean traceForwardHashes,
        int maxLinksPerPeer,
        EtcdSettings etcd,
        boolean xdpKeepOnExit,
        boolean udpGso) {

    /** The same options with {@code workers} workers (a takeover runs one per handed-over socket). */
    public ServeConfig withWorkers(int workers) {
        return new ServeConfig(
                bind,
                port,
                workers,
                roster,
                control,
                controlToken,
                metrics,
                xdpInterfaces,
                xdpMode,
                traceForwardHashes,
                maxLinksPerPeer,
                etcd,
                xdpKeepOnExit,
                udpGso);
    }

    /** True when the options ask for an XDP attach. */
    public boolean wantsXdp() {
        return !xdpInterfaces.isEmpty() && xdpMode != XdpMode.OFF;
    }
}
