package org.wgrelay.server.store;

import java.util.concurrent.Callable;
import org.wgrelay.server.roster.Roster;

/**
 * The relay's live roster as a store sees it: what is applied now, the one writer thread
 * that applies changes, and the step that makes a roster live (forwarding table, runtimes,
 * listeners). Implemented by the roster service; a store never publishes tables itself.
 */
public interface AppliedRoster {
    /** The roster live now (one volatile read). */
    Roster current();

    /**
     * Runs {@code task} on the writer thread and returns its result; the calling thread
     * waits. Throws {@link StoreUnavailableException} when the writer cannot take it.
     */
    <T> T callOnWriter(Callable<T> task);

    /** Queues {@code task} on the writer thread, behind every task queued before it. */
    void runOnWriter(Runnable task);

    /** True on the writer thread. */
    boolean onWriter();

    /**
     * Writer thread only: makes {@code next} the live roster — runtimes, a new forwarding
     * table, then the listeners, told of the change from the previous roster.
     */
    void install(Roster next, String message);
}
