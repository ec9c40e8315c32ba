package org.wgrelay.server.state;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterListener;
import org.wgrelay.server.roster.RosterOutcome;
import org.wgrelay.server.store.AppliedRoster;
import org.wgrelay.server.store.FileRosterStore;
import org.wgrelay.server.store.RosterStore;
import org.wgrelay.server.store.StoreUnavailableException;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.PeerRuntime;

/**
 * The relay's live roster and its one writer. Every change — control verbs, roaming
 * commits — goes through the {@link RosterStore}, which validates it, makes it durable
 * (the file, or an etcd transaction) and then makes it live here through {@link #install}:
 * a new forwarding table published with one volatile write, then the listeners. A rejected
 * or unpersistable change changes nothing.
 *
 * <p>Also owns each peer's {@link PeerRuntime} (counters, roaming slot, MAC1 key):
 * created when the peer is added, kept across endpoint, key and link changes, dropped
 * when the peer is removed.
 *
 * <p>Threads: every install runs on one writer thread — the relay's owner thread — so
 * verbs, roaming commits and (with etcd) the watch never interleave. The monitor guards the
 * runtimes for readers on other threads. Readers of the roster and the table use the
 * volatile snapshots. Never on a worker's forward path.
 */
public final class RosterService implements AppliedRoster {
    private static final Logger LOG = LoggerFactory.getLogger(RosterService.class);

    private final RosterStore store;
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

    /** As above, with every change run on {@code writer} (the owner thread); the file store, no shared blocklist. */
    public RosterService(
            Roster initial, RosterFile file, ForwardingTableHolder tables, int workers, EventExecutor writer) {
        this(
                initial,
                new FileRosterStore(file, new Blocklist(), System::currentTimeMillis, null),
                tables,
                workers,
                writer);
    }

    /** Starts from {@code initial} with changes made through {@code store}, installed on {@code writer}. */
    public RosterService(
            Roster initial, RosterStore store, ForwardingTableHolder tables, int workers, EventExecutor writer) {
        this.writer = writer;
        this.store = store;
        this.tables = tables;
        this.workers = workers;
        synchronized (this) {
            this.roster = initial;
            syncStats(initial);
            tables.publish(ForwardingTable.build(initial, runtimes::get));
        }
        store.attach(this);
    }

    public Roster roster() {
        return roster;
    }

    @Override
    public Roster current() {
        return roster;
    }

    public RosterStore store() {
        return store;
    }

    /** The roster file: the store itself, or (with etcd) its cache; null when there is none. */
    public RosterFile file() {
        return store instanceof FileRosterStore f ? f.file() : null;
    }

    public void addListener(RosterListener listener) {
        listeners.add(listener);
    }

    /**
     * Applies one change through the store and returns its outcome. The function receives
     * the current roster and returns the outcome of asking it for the change (see the
     * {@link Roster} methods).
     */
    public RosterChange apply(Function<Roster, RosterChange> change) {
        return store.apply(change);
    }

    @Override
    public <T> T callOnWriter(Callable<T> task) {
        if (writer.inEventLoop()) {
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        try {
            return writer.submit(task).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted before the change was applied");
        } catch (ExecutionException e) {
            throw new IllegalStateException("roster change failed", e.getCause());
        } catch (RejectedExecutionException e) {
            throw new StoreUnavailableException(
                    "the relay is too busy to take the change now, nothing changed; try again");
        }
    }

    @Override
    public void runOnWriter(Runnable task) {
        try {
            writer.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("writer stopped; task dropped");
        }
    }

    @Override
    public boolean onWriter() {
        return writer.inEventLoop();
    }

    @Override
    public synchronized void install(Roster next, String message) {
        Roster before = roster;
        if (next.equals(before)) {
            return;
        }
        roster = next;
        syncStats(next);
        tables.publish(ForwardingTable.build(next, runtimes::get));
        RosterChange change = new RosterChange(RosterOutcome.OK, message, next);
        for (RosterListener listener : listeners) {
            try {
                listener.rosterChanged(before, change);
            } catch (RuntimeException e) {
                LOG.error("roster listener failed", e);
            }
        }
    }

    /** Rule 9: a confirmed roam, live at once (writer thread); made durable as the store can. */
    public RosterChange relearn(String name, Endpoint endpoint) {
        return store.relearn(name, endpoint);
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
