package org.wgrelay.server.xdp;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterListener;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.xdp.AttachResult;
import org.wgrelay.xdp.HelperChannel;
import org.wgrelay.xdp.MapSync;
import org.wgrelay.xdp.XdpState;
import org.wgrelay.xdp.XdpStats;

/**
 * The XDP fast path of a running relay, as one loop on its own thread
 * ({@code wg-relay-xdp}): keeps the BPF maps in step with the forwarding table, roaming
 * candidates, blocklist and hubs' session indices (a sync on every change, within
 * {@link #SESSION_CHECK_MILLIS} of a session index changing, and once a second), polls the
 * program's counters once a second and whenever {@code wg show}, {@code wg peer list} or
 * {@code /metrics} reads them ({@link #pollCountsNow}), and has the
 * {@link HelperSupervisor} restart a helper that died (then resyncs everything).
 *
 * <p>Threads: all helper traffic happens on the XDP thread; other threads only ask for a
 * sync ({@link #requestSync}) or a poll. Userspace remains correct for everything the
 * program passes up, so a slow sync costs speed, never correctness — except that rule 9
 * needs the partner's data, which a sync sends up within a moment of a candidate's answer.
 */
public final class XdpFastPath implements RosterListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(XdpFastPath.class);
    /** How long a reader waits for an on-demand poll: one helper round trip, normally a millisecond. */
    static final long POLL_WAIT_MILLIS = 2_000;
    /**
     * How often the XDP thread compares the hubs' session-index version with the one it last
     * synced (SPEC B): a hub's data to a new session goes up to userspace until the next
     * sync, so this bounds how long. A handshake is not a roster change, so nothing else
     * asks for that sync; the comparison is a sum over the hubs, cheap at this rate.
     */
    static final long SESSION_CHECK_MILLIS = 50;

    private final HelperSupervisor supervisor;
    private final int relayPort;
    private final ForwardingTableHolder tables;
    private final Blocklist blocklist;
    private final LongSupplier clockMillis;
    private final KernelCounts kernel;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "wg-relay-xdp");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean syncQueued = new AtomicBoolean();
    /**
     * The maps' writer for the current helper; a new helper gets a new one. Used on the XDP
     * thread only; volatile for {@link #failedMapWrites}, which other threads read.
     */
    private volatile MapSync sync;
    /** Map writes that failed through earlier helpers. */
    private volatile long failedBeforeRestart;
    /** The table the maps were last synced to: per-peer kernel counts belong to its endpoints. */
    private ForwardingTable projected = ForwardingTable.EMPTY;
    /** {@link ForwardingTable#sessionVersion()} when the maps were last synced. XDP thread only. */
    private long syncedSessionVersion;

    XdpFastPath(
            XdpLauncher launcher,
            HelperChannel helper,
            List<String> interfaces,
            XdpMode mode,
            int relayPort,
            ForwardingTableHolder tables,
            Blocklist blocklist,
            RelayCounters counters,
            boolean keepOnExit,
            LongSupplier clockMillis) {
        this.supervisor = new HelperSupervisor(launcher, helper, interfaces, mode, keepOnExit, clockMillis);
        this.relayPort = relayPort;
        this.tables = tables;
        this.blocklist = blocklist;
        this.clockMillis = clockMillis;
        this.sync = new MapSync(helper, clockMillis);
        this.kernel = new KernelCounts(counters);
    }

    /**
     * Attaches to every NIC; stops at the first failure and returns its result (the caller
     * logs SPEC's {@code xdp_attach_failed} line and refuses to start). Null on success,
     * after which the maps are synced and the loop runs.
     */
    AttachResult attach() throws IOException {
        AttachResult failed = supervisor.attach();
        if (failed != null) {
            return failed;
        }
        onXdpThread(() -> {
            takeBaseline();
            syncNow();
        });
        thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        thread.scheduleWithFixedDelay(
                this::checkSessions, SESSION_CHECK_MILLIS, SESSION_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        return null;
    }

    @Override
    public void rosterChanged(Roster before, RosterChange change) {
        requestSync();
    }

    /** Asks for a map sync soon (coalesced); for every change the maps project. Never blocks. */
    public void requestSync() {
        if (syncQueued.compareAndSet(false, true)) {
            try {
                thread.execute(() -> {
                    syncQueued.set(false);
                    syncNow();
                });
            } catch (RejectedExecutionException e) {
                syncQueued.set(false); // closed
            }
        }
    }

    /** The achieved attach mode: {@code skb} if any NIC runs in generic mode, else {@code drv}. */
    public String mode() {
        return supervisor.mode();
    }

    /** False while the helper is dead and being restarted (userspace handles everything then). */
    public boolean attached() {
        return supervisor.attached();
    }

    /** SPEC's {@code xdp_*} keys of {@code wg show}: kernel totals since the relay started. */
    public Map<String, Long> xdpKeys() {
        return kernel.xdpKeys();
    }

    /** Map writes that failed since start, across helper restarts. */
    public long failedMapWrites() {
        MapSync current = sync;
        return failedBeforeRestart + (current == null ? 0 : current.failedWrites());
    }

    /**
     * Polls the program's counters now, on the XDP thread, and waits for the poll (at most
     * {@link #POLL_WAIT_MILLIS}): {@code wg show}, {@code wg peer list} and {@code /metrics}
     * call this before they read, so what they report includes everything the kernel had
     * counted when they were asked, not only what the last periodic poll folded in. Also a
     * test's way to know that all kernel counts are in. A poll that does not finish in time
     * (the helper hung) leaves the counts as the last poll left them.
     */
    public void pollCountsNow() {
        if (supervisor.attached()) {
            onXdpThread(() -> {
                if (supervisor.attached()) {
                    foldKernelCounts();
                }
            });
        }
    }

    /** Runs one periodic round now and waits for it: the supervisor's check, a sync, a poll. For tests. */
    void tickNow() {
        onXdpThread(this::tick);
    }

    /** Runs the session-index check now and waits for it (a sync only if a session index changed). For tests. */
    void checkSessionsNow() {
        onXdpThread(this::checkSessions);
    }

    private void onXdpThread(Runnable task) {
        try {
            thread.submit(task).get(POLL_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            LOG.debug("XDP thread task did not complete: {}", e.toString());
        }
    }

    private void tick() {
        if (supervisor.restartIfDead()) {
            // A new helper: fresh maps, or the kept ones it adopted; its resync reads them back.
            failedBeforeRestart += sync.failedWrites();
            sync = new MapSync(supervisor.helper(), clockMillis);
            takeBaseline();
            syncNow();
            return;
        }
        if (!supervisor.attached()) {
            return;
        }
        syncNow();
        foldKernelCounts();
    }

    /** Syncs the maps when a hub's session index gained or lost an entry since the last sync. */
    private void checkSessions() {
        try {
            if (supervisor.attached() && tables.current().sessionVersion() != syncedSessionVersion) {
                syncNow();
            }
        } catch (RuntimeException e) {
            LOG.error("XDP session check failed", e); // keep the schedule alive
        }
    }

    /** What the program attached just now counted before: not this relay's (see {@link KernelCounts#baseline}). */
    private void takeBaseline() {
        try {
            kernel.baseline(XdpStats.parse(supervisor.helper().callMulti("stats")));
        } catch (IOException e) {
            LOG.warn("reading XDP counters failed: {}", e.getMessage());
            kernel.helperRestarted();
        }
    }

    /** Adds what the program counted since the last poll, per peer as the maps have them. */
    private void foldKernelCounts() {
        try {
            kernel.fold(XdpStats.parse(supervisor.helper().callMulti("stats")), projected, clockMillis.getAsLong());
        } catch (IOException e) {
            LOG.warn("reading XDP counters failed: {}", e.getMessage());
        }
    }

    private void syncNow() {
        if (!supervisor.attached()) {
            return; // the supervisor resyncs a new helper in full
        }
        try {
            ForwardingTable table = tables.current();
            // Read before projecting: an entry added meanwhile changes the version again.
            long sessionVersion = table.sessionVersion();
            XdpState want =
                    XdpProjection.project(relayPort, supervisor.nics(), table, blocklist, clockMillis.getAsLong());
            // An entry's counts go with it: take them while the maps and the table they
            // were synced to still agree on whose they are (a move, an unlink, a resync).
            Set<String> removed = sync.peersRemovedBy(want);
            if (!removed.isEmpty()) {
                foldKernelCounts();
            }
            // After a failed write an entry may still be in the map with its counts: keep
            // measuring it from the last poll rather than risk counting it twice.
            if (sync.apply(want)) {
                kernel.entriesRemoved(removed);
            }
            projected = table;
            syncedSessionVersion = sessionVersion;
        } catch (RuntimeException e) {
            LOG.error("XDP map sync failed", e);
            sync.reset();
        }
    }

    /**
     * For a relay that hands over to another one (SPEC D's takeover): the program stays
     * attached when this relay ends, so the new relay adopts it as it runs, and this relay
     * writes the maps no more (the new one resyncs them; two writers would race for the
     * per-endpoint counter slots). Counts are polled once more first. True when the helper
     * agreed to keep the program; either way the loop has stopped. Call it before the new
     * relay attaches, then {@link #close}.
     */
    public boolean handOver() {
        boolean[] kept = {false};
        onXdpThread(() -> {
            if (supervisor.attached()) {
                foldKernelCounts();
            }
            kept[0] = supervisor.keepFromNowOn();
            thread.shutdown(); // queued syncs are dropped below; nothing else is scheduled again
        });
        thread.shutdownNow();
        return kept[0];
    }

    /** Stops the loop and closes the helper, which detaches the program from every NIC (unless kept). */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        supervisor.close();
    }
}
