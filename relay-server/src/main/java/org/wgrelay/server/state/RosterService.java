package org.wgrelay.server.state;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterFileException;
import org.wgrelay.server.roster.RosterListener;
import org.wgrelay.server.roster.RosterOutcome;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.PeerRuntime;

/**
 * The one writer of the roster. Every change — control verbs, roaming commits — goes
 * through {@link #apply}, one at a time: validate against the current roster, persist
 * the new roster atomically, then publish a new forwarding table with one volatile
 * write, then tell the listeners. A rejected or unpersistable change changes nothing.
 *
 * <p>Also owns each peer's {@link PeerRuntime} (counters, roaming slot, MAC1 key):
 * created when the peer is added, kept across endpoint, key and link changes, dropped
 * when the peer is removed.
 *
 * <p>Threads: every change runs on one writer thread — the relay's owner thread — so
 * verbs (from the control executor) and roaming commits (on the owner itself) never
 * interleave; a caller on another thread hands the change over and waits for its
 * outcome. The monitor guards the runtimes for readers on other threads. Readers of
 * the roster and the table use the volatile snapshots. Never on a worker's forward path.
 */
public final class RosterService {
    private static final Logger LOG = LoggerFactory.getLogger(RosterService.class);

    private final RosterFile file;
    private final ForwardingTableHolder tables;
    private final int workers;
    private final Map<String, PeerRuntime> runtimes = new HashMap<>();
    private final List<RosterListener> listeners = new CopyOnWriteArrayList<>();
    private volatile Roster roster;
    private final EventExecutor writer;

    /** Starts from {@code initial} (already loaded) and publishes its table; changes run on the caller's thread. */
    public RosterService(Roster initial, RosterFile file, ForwardingTableHolder tables, int workers) {
        this(initial, file, tables, workers, ImmediateEventExecutor.INSTANCE);
    }

    /** As above, with every change run on {@code writer} (the owner thread). */
    public RosterService(
            Roster initial, RosterFile file, ForwardingTableHolder tables, int workers, EventExecutor writer) {
        this.writer = writer;
        this.file = file;
        this.tables = tables;
        this.workers = workers;
        synchronized (this) {
            this.roster = initial;
            syncStats(initial);
            tables.publish(ForwardingTable.build(initial, runtimes::get));
        }
    }

    public Roster roster() {
        return roster;
    }

    public RosterFile file() {
        return file;
    }

    public void addListener(RosterListener listener) {
        listeners.add(listener);
    }

    /**
     * Applies one change on the writer thread and returns its outcome. The function receives
     * the current roster and returns the outcome of asking it for the change (see the
     * {@link Roster} methods). A writer too busy to take it refuses it ({@code internal}).
     */
    public RosterChange apply(Function<Roster, RosterChange> change) {
        if (writer.inEventLoop()) {
            return applyHere(change);
        }
        Roster before = roster;
        try {
            return writer.submit(() -> applyHere(change)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new RosterChange(RosterOutcome.PERSIST_FAILED, "interrupted before the change was applied", before);
        } catch (ExecutionException e) {
            throw new IllegalStateException("roster change failed", e.getCause());
        } catch (RejectedExecutionException e) {
            return new RosterChange(
                    RosterOutcome.PERSIST_FAILED,
                    "the relay is too busy to take the change now, nothing changed; try again",
                    before);
        }
    }

    private synchronized RosterChange applyHere(Function<Roster, RosterChange> change) {
        Roster before = roster;
        RosterChange result = change.apply(before);
        if (!result.ok() || result.roster().equals(before)) {
            return result;
        }
        try {
            file.write(result.roster());
        } catch (RosterFileException e) {
            LOG.error("roster change not applied: {}", e.getMessage());
            return new RosterChange(
                    RosterOutcome.PERSIST_FAILED,
                    "the roster could not be saved, nothing changed: " + e.getMessage(),
                    before);
        }
        roster = result.roster();
        syncStats(roster);
        tables.publish(ForwardingTable.build(roster, runtimes::get));
        for (RosterListener listener : listeners) {
            try {
                listener.rosterChanged(before, result);
            } catch (RuntimeException e) {
                LOG.error("roster listener failed", e);
            }
        }
        return result;
    }

    public RosterChange addPeer(String name, Endpoint endpoint, String pubkey, String label) {
        return apply(r -> r.addPeer(name, endpoint, pubkey, label));
    }

    public RosterChange updateEndpoint(String name, Endpoint endpoint) {
        return apply(r -> r.updateEndpoint(name, endpoint));
    }

    public RosterChange setPubkey(String name, String pubkey) {
        return apply(r -> r.setPubkey(name, pubkey));
    }

    public RosterChange setNic(String name, String nic) {
        return apply(r -> r.setNic(name, nic));
    }

    public RosterChange removePeer(String name) {
        return apply(r -> r.removePeer(name));
    }

    public RosterChange addLink(String a, String b) {
        return apply(r -> r.addLink(a, b));
    }

    public RosterChange removeLink(String a, String b) {
        return apply(r -> r.removeLink(a, b));
    }

    /** The counters of a registered peer, or null. */
    public synchronized PeerStats statsOf(String peerName) {
        PeerRuntime r = runtimes.get(peerName);
        return r == null ? null : r.stats();
    }

    /** The runtime (counters, roaming slot, MAC1 key) of a registered peer, or null. */
    public synchronized PeerRuntime runtimeOf(String peerName) {
        return runtimes.get(peerName);
    }

    private void syncStats(Roster current) {
        runtimes.keySet().removeIf(name -> current.peer(name) == null);
        for (PeerEntry p : current.peers()) {
            runtimes.computeIfAbsent(p.name(), n -> new PeerRuntime(new PeerStats(workers)));
        }
    }
}
