package org.wgrelay.server.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.control.server.ControlLimits;
import org.wgrelay.control.server.ControlServer;
import org.wgrelay.control.server.ListenerTransport;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.control.ControlContext;
import org.wgrelay.server.control.RelayVerbs;
import org.wgrelay.server.control.StateEvents;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.handover.CounterTransfer;
import org.wgrelay.server.handover.EpollListeners;
import org.wgrelay.server.handover.HandoverListener;
import org.wgrelay.server.handover.HandoverPath;
import org.wgrelay.server.handover.SocketRole;
import org.wgrelay.server.handover.Takeover;
import org.wgrelay.server.metrics.MetricsServer;
import org.wgrelay.server.metrics.RelayMeters;
import org.wgrelay.server.roaming.Candidate;
import org.wgrelay.server.roaming.RoamingEngine;
import org.wgrelay.server.roaming.StrikeTable;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterFileException;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.status.RelayStatus;
import org.wgrelay.server.status.RelayTotals;
import org.wgrelay.server.store.EtcdRosterStore;
import org.wgrelay.server.store.FileRosterStore;
import org.wgrelay.server.store.RelayInfo;
import org.wgrelay.server.store.RosterStore;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.xdp.XdpAttachException;
import org.wgrelay.server.xdp.XdpFastPath;
import org.wgrelay.server.xdp.XdpLauncher;

/**
 * One running relay: the roster and its single writer, the published forwarding
 * table, the counters, the blocklist, the UDP data plane and the owner thread. Built
 * from a {@link ServeConfig}; {@code ServeCommand} runs it as the daemon and tests run
 * it in-process.
 */
public final class RelayDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RelayDaemon.class);
    /** A roster temporary older than this at start was left by a write that never finished. */
    private static final long STALE_TEMPORARY_MILLIS = 60_000;

    private final ServeConfig config;
    private final LongSupplier clockMillis;
    private final RelayCounters counters;
    private final ForwardingTableHolder tables = new ForwardingTableHolder(ForwardingTable.EMPTY);
    private final Blocklist blocklist = new Blocklist();
    private final RosterService roster;
    private final RelayServer udp;
    private final OwnerThread owner = new OwnerThread();
    private final java.time.Instant startedAt =
            java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    private final RoamingEngine roaming;
    private final PrometheusMeterRegistry meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final RelayMeters meters;
    private final RelayTotals totals;
    private final XdpLauncher xdpLauncher;
    private volatile XdpFastPath xdp;
    private volatile RelayStatus status;
    private volatile ControlServer control;
    private volatile MetricsServer metrics;
    private volatile HandoverListener handover;
    /** Ready for /readyz: sockets bound, roster loaded (and, later, XDP attached when configured). */
    private volatile boolean ready;

    /** Loads the roster; nothing is bound until {@link #start}. XDP per the config, from the built helper. */
    public RelayDaemon(ServeConfig config, LongSupplier clockMillis) throws RosterFileException {
        this(config, clockMillis, XdpLauncher.fromEnvironment());
    }

    /** As above, with where the XDP helper comes from (tests give a fake). */
    public RelayDaemon(ServeConfig config, LongSupplier clockMillis, XdpLauncher xdpLauncher)
            throws RosterFileException {
        this.xdpLauncher = xdpLauncher;
        this.config = config;
        this.clockMillis = clockMillis;
        this.counters = new RelayCounters(config.workers());
        RosterFile file = new RosterFile(config.roster());
        Roster initial = loadRoster(file, config);
        // File times are the wall clock's, whatever clock the relay runs on.
        int stale = file.removeStaleTemporaries(System.currentTimeMillis() - STALE_TEMPORARY_MILLIS);
        if (stale > 0) {
            LOG.info("removed {} temporary roster file(s) left by an interrupted write", stale);
        }
        RosterStore store = config.etcd() == null
                ? new FileRosterStore(file, blocklist, clockMillis, this::selfInfo)
                : new EtcdRosterStore(
                        config.etcd(),
                        config.maxLinksPerPeer(),
                        file,
                        blocklist,
                        clockMillis,
                        this::publish,
                        this::selfInfo);
        this.roster = new RosterService(initial, store, tables, config.workers(), owner.executor());
        this.roaming = new RoamingEngine(
                tables, roster, blocklist, new StrikeTable(), counters, clockMillis, this::publish, owner.executor());
        this.udp = new RelayServer(
                new InetSocketAddress(config.bind(), config.port()),
                config.workers(),
                tables,
                blocklist,
                counters,
                roaming,
                config.maxLinksPerPeer() > 1,
                config.traceForwardHashes(),
                config.udpGso(),
                clockMillis);
        this.totals = new RelayTotals(counters, () -> xdp);
        this.meters = new RelayMeters(meterRegistry, roster, totals, blocklist, clockMillis, owner::rejections);
        roster.addListener(meters);
    }

    /**
     * The roster to start from: the file, or with etcd its cache — which may be missing or
     * unreadable without stopping the relay, since the store's first sync replaces it.
     */
    private static Roster loadRoster(RosterFile file, ServeConfig config) throws RosterFileException {
        if (config.etcd() == null) {
            return file.load(config.maxLinksPerPeer());
        }
        try {
            return file.load(config.maxLinksPerPeer());
        } catch (RosterFileException e) {
            LOG.warn("roster cache not used, starting empty until etcd answers: {}", e.getMessage());
            return Roster.empty(config.maxLinksPerPeer());
        }
    }

    /** This relay as {@code wg relay list} and {@code relays/<id>} show it (valid once bound). */
    private RelayInfo selfInfo() {
        String id = config.etcd() != null ? config.etcd().relayId() : ServeCommand.hostName();
        String version = RelayDaemon.class.getPackage().getImplementationVersion();
        return new RelayInfo(
                id,
                Endpoint.format(config.bind(), udp.boundPort()),
                version == null ? "dev" : version,
                startedAt.toString());
    }

    /**
     * Binds the UDP sockets, then the control and metrics listeners; throws (having
     * closed what it opened) if any bind fails.
     */
    public void start() throws InterruptedException, XdpAttachException {
        start(null);
    }

    /**
     * As {@link #start()}, but on the sockets a running relay handed over when {@code takeover}
     * is not null (SPEC D): the workers read the same sockets, queues included, and the
     * listeners accept on the same ones.
     */
    public void start(Takeover takeover) throws InterruptedException, XdpAttachException {
        if (takeover != null) {
            takeover.claimAll();
        }
        try {
            bind(
                    "udp " + Endpoint.format(config.bind(), config.port()),
                    () -> udp.start(takeover == null ? List.of() : takeover.fds(SocketRole.UDP)));
            if (takeover == null) {
                attachXdp();
            }
            status = new RelayStatus(roster, totals, udp.boundPort(), peer -> {
                Candidate c = roaming.candidateOf(peer);
                return c == null ? null : c.endpoint().toString();
            });
            ControlContext context = new ControlContext(
                    new InetSocketAddress(config.bind(), udp.boundPort()),
                    roster,
                    status,
                    udp::dropSources,
                    blocklist,
                    (event, data) -> publish(event, data),
                    clockMillis);
            control = new ControlServer(
                    config.control().socketAddress(),
                    listenerTransport(takeover, SocketRole.CONTROL),
                    RelayVerbs.registry(context),
                    config.controlToken(),
                    ControlLimits.DEFAULTS);
            roster.addListener(new StateEvents(this::publish));
            bind("control " + config.control(), control::start);
            metrics = new MetricsServer(
                    config.metrics().socketAddress(),
                    listenerTransport(takeover, SocketRole.METRICS),
                    meterRegistry,
                    this::ready,
                    totals::pollKernelCounts);
            bind("metrics " + config.metrics(), metrics::start);
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
        // Expired blocklist entries stop blocking at once (the gate compares times);
        // the sweep only keeps the table small.
        // Candidate expiry and strike/blocklist sweeps run at least once a second, idle or not.
        owner.executor().scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
        ready = true;
        roster.store().start(); // SPEC C: etcd syncs in the background; /readyz waits for it
    }

    /**
     * Attaches (or adopts) the XDP program when the options ask for it. A relay that takes
     * over calls this only once the old relay stopped and handed its program over
     * ({@link #handOverXdp}), so the maps never have two writers; the kept program forwards
     * on the old maps meanwhile.
     */
    public void attachXdp() throws XdpAttachException {
        if (!config.wantsXdp() || xdp != null) {
            return;
        }
        xdp = xdpLauncher.attach(
                config.xdpInterfaces(),
                config.xdpMode(),
                udp.boundPort(),
                tables,
                blocklist,
                roaming,
                counters,
                config.xdpKeepOnExit(),
                clockMillis);
        roster.addListener(xdp);
    }

    /**
     * The old side of a takeover: the program stays attached for the new relay to adopt and
     * this relay stops writing the maps ({@link XdpFastPath#handOver}). No-op without XDP.
     */
    void handOverXdp() {
        XdpFastPath x = xdp;
        if (x != null && !x.handOver()) {
            LOG.warn("takeover: the XDP helper did not keep the program; the new relay attaches it anew");
        }
    }

    /** The handed-over listener of {@code role}, else a new (epoll) one. */
    private static ListenerTransport listenerTransport(Takeover takeover, SocketRole role) {
        int fd = takeover == null ? -1 : takeover.fd(role);
        return fd < 0 ? EpollListeners.fresh() : EpollListeners.inherited(fd);
    }

    /**
     * Listens for a takeover next to the roster (SPEC D); {@code exit} runs once this relay
     * handed over. Without a socket (logged why) the relay serves all the same.
     */
    public void listenForTakeover(Runnable exit) {
        handover = HandoverListener.listen(HandoverPath.of(config.roster()), new RelayHandoverSource(this, exit));
    }

    /** Adds the totals of the relay that handed over ({@link CounterTransfer}); on the owner thread. */
    public void inheritCounters(JsonNode snapshot) throws InterruptedException {
        try {
            owner.executor()
                    .submit(() -> CounterTransfer.restore(snapshot, counters, roster))
                    .get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("takeover: the old relay's counters were not added: {}", e.toString());
        }
    }

    ControlServer controlServer() {
        return control;
    }

    MetricsServer metricsServer() {
        return metrics;
    }

    private interface Binder {
        void bind() throws InterruptedException;
    }

    /** Runs one listener's bind, naming the listener in the error when it fails. */
    private static void bind(String what, Binder binder) throws InterruptedException {
        try {
            binder.bind();
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot bind " + what + ": " + e.getMessage(), e);
        }
    }

    private void sweep() {
        try {
            roaming.sweep();
            long now = clockMillis.getAsLong();
            blocklist.sweep(now);
            for (Route hub : tables.current().hubs()) {
                hub.runtime().sessions().expire(now); // SPEC B: the XDP mirror drops them too
            }
        } catch (RuntimeException e) {
            LOG.error("timer sweep failed", e); // keep the timer alive
        }
    }

    /** Runs the owner's sweep now (tests drive the clock and call this instead of waiting). */
    public void sweepNow() throws InterruptedException {
        try {
            owner.executor().submit(this::sweep).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    public RoamingEngine roaming() {
        return roaming;
    }

    private void publish(String event, Object data) {
        ControlServer c = control;
        if (c != null) {
            c.publish(event, data);
        }
    }

    /** SPEC's startup line. */
    public String startupLine() {
        return "wg-relay listening on udp " + Endpoint.format(config.bind(), udp.boundPort())
                + " workers=" + config.workers()
                + " peers=" + roster.roster().peerCount()
                + " links=" + roster.roster().linkCount()
                + " xdp=" + (xdp == null ? "off" : xdp.mode())
                + " control=" + new HostPort(config.control().host(), control.boundPort())
                + " metrics=" + new HostPort(config.metrics().host(), metrics.boundPort());
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
        return status;
    }

    public int controlPort() {
        return control.boundPort();
    }

    public int metricsPort() {
        return metrics.boundPort();
    }

    /** SPEC: {@code /readyz} — started, and (with etcd) the roster read whole from the store once. */
    public boolean ready() {
        return ready && roster.store().status().synced();
    }

    /** Stops accepting, lets queued sends go out, stops the owner thread. The roster is always on disk. */
    @Override
    public void close() {
        ready = false;
        if (handover != null) {
            handover.close();
        }
        roster.store().close(); // first: its sync hands work to the owner thread
        owner.close();
        if (control != null) {
            control.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (xdp != null) {
            xdp.close(); // the helper detaches the program as its input closes
            xdp = null;
        }
        udp.close();
        LOG.info("wg-relay stopped");
    }
}
