package org.wgrelay.server.server;

import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.metrics.RelayCounters;
import org.wgrelay.server.pipeline.DropUnknownSources;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterFileException;
import org.wgrelay.server.roster.RosterService;
import org.wgrelay.server.status.RelayStatus;
import org.wgrelay.server.table.Endpoint;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * One running relay: the roster and its single writer, the published forwarding
 * table, the counters, the blocklist, the UDP data plane and the timer thread. Built
 * from a {@link ServeConfig}; {@code ServeCommand} runs it as the daemon and tests run
 * it in-process.
 */
public final class RelayDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RelayDaemon.class);

    private final ServeConfig config;
    private final LongSupplier clockMillis;
    private final RelayCounters counters;
    private final ForwardingTableHolder tables = new ForwardingTableHolder(ForwardingTable.EMPTY);
    private final Blocklist blocklist = new Blocklist();
    private final RosterService roster;
    private final RelayServer udp;
    private final ScheduledExecutorService timers;

    /** Loads the roster; nothing is bound until {@link #start}. */
    public RelayDaemon(ServeConfig config, LongSupplier clockMillis) throws RosterFileException {
        this.config = config;
        this.clockMillis = clockMillis;
        this.counters = new RelayCounters(config.workers());
        RosterFile file = new RosterFile(config.roster());
        Roster initial = file.load();
        this.roster = new RosterService(initial, file, tables, config.workers());
        this.udp = new RelayServer(new InetSocketAddress(config.bind(), config.port()), config.workers(), tables,
                blocklist, counters, new DropUnknownSources(), config.traceForwardHashes(), clockMillis);
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "wg-relay-timers");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() throws InterruptedException {
        udp.start();
        // Expired blocklist entries stop blocking at once (the gate compares times);
        // the sweep only keeps the table small.
        timers.scheduleAtFixedRate(() -> blocklist.sweep(clockMillis.getAsLong()), 1, 1, TimeUnit.SECONDS);
    }

    /** SPEC's startup line. */
    public String startupLine() {
        return "wg-relay listening on udp " + Endpoint.format(config.bind(), udp.boundPort())
                + " workers=" + config.workers()
                + " peers=" + roster.roster().peerCount()
                + " links=" + roster.roster().linkCount()
                + " xdp=off"
                + " control=" + config.control()
                + " metrics=" + config.metrics();
    }

    public ServeConfig config() {
        return config;
    }

    public RosterService roster() {
        return roster;
    }

    public RelayCounters counters() {
        return counters;
    }

    public Blocklist blocklist() {
        return blocklist;
    }

    public RelayServer udp() {
        return udp;
    }

    public int udpPort() {
        return udp.boundPort();
    }

    /** The counters as SPEC's verbs report them; valid once started. */
    public RelayStatus status() {
        return new RelayStatus(roster, counters, udp.boundPort());
    }

    /** Stops accepting, lets queued sends go out, stops the timers. The roster is always on disk. */
    @Override
    public void close() {
        timers.shutdownNow();
        udp.close();
        LOG.info("wg-relay stopped");
    }
}
