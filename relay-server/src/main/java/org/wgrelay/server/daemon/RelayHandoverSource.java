package org.wgrelay.server.daemon;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.handover.CounterTransfer;
import org.wgrelay.server.handover.EpollListeners;
import org.wgrelay.server.handover.HandoverSource;
import org.wgrelay.server.handover.SocketRole;

/**
 * A running {@link RelayDaemon} as the handover listener sees it: its workers' sockets and
 * its two listeners, stopping and resuming them, and the exit once handed over.
 */
final class RelayHandoverSource implements HandoverSource {
    private static final Logger LOG = LoggerFactory.getLogger(RelayHandoverSource.class);
    private static final long DRAIN_MILLIS = 2_000;
    /**
     * How long both relays read the sockets together before this one stops. A new JVM runs
     * its first datagrams in the interpreter; sharing the load while its compiler catches up
     * keeps the sockets' queues from overflowing (measured: without it, a takeover under
     * 20 kpps on a busy 2-core machine overflowed a 4 MiB receive buffer).
     */
    static final long OVERLAP_MILLIS = 1_000;

    private final RelayDaemon daemon;
    private final Runnable exit;

    RelayHandoverSource(RelayDaemon daemon, Runnable exit) {
        this.daemon = daemon;
        this.exit = exit;
    }

    @Override
    public List<OfferedSocket> sockets() {
        List<OfferedSocket> out = new ArrayList<>();
        for (int fd : daemon.udp().socketFds()) {
            out.add(new OfferedSocket(SocketRole.UDP, fd));
        }
        int control = EpollListeners.fdOf(daemon.controlServer().listener());
        if (control >= 0) {
            out.add(new OfferedSocket(SocketRole.CONTROL, control));
        }
        int metrics = EpollListeners.fdOf(daemon.metricsServer().listener());
        if (metrics >= 0) {
            out.add(new OfferedSocket(SocketRole.METRICS, metrics));
        }
        return out;
    }

    @Override
    public ObjectNode stopServing(long newPid) throws InterruptedException {
        // Listeners first: from here connections queue for the new relay, which accepts them.
        setAccepting(false);
        Thread.sleep(OVERLAP_MILLIS);
        daemon.udp().stopReading(DRAIN_MILLIS);
        // After the last read: the kernel's counts are folded in once more, then the program
        // is the new relay's (it attaches only after "stopped").
        daemon.handOverXdp();
        return CounterTransfer.snapshot(daemon.counters(), daemon.roster());
    }

    @Override
    public void resumeServing() {
        // With XDP the program was handed over and this relay no longer writes its maps: the
        // kernel forwards on the maps as they were until a restart resyncs them.
        daemon.udp().resumeReading();
        setAccepting(true);
    }

    private void setAccepting(boolean on) {
        for (Channel listener : List.of(
                daemon.controlServer().listener(), daemon.metricsServer().listener())) {
            listener.config().setAutoRead(on);
        }
    }

    @Override
    public void handedOver(long newPid) {
        LOG.info("handed over to pid={}", newPid);
        exit.run();
    }
}
