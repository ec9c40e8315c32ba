package org.wgrelay.server.pipeline;

import java.net.InetSocketAddress;
import java.util.function.LongSupplier;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.wire.Mac1;

/**
 * The state one worker's pipeline shares between its handlers. Every field is owned
 * by that worker's event loop: handlers read and write it without synchronisation.
 *
 * <p>{@link #type} and {@link #route} carry what one handler learned about the current
 * datagram to the next, so the datagram itself travels down the pipeline unwrapped.
 * They are valid only while that datagram is being handled.
 */
public final class WorkerState {
    private final int stripe;
    private final RelayCounters counters;
    private final DropSourceTable dropSources = new DropSourceTable();
    private final LongSupplier clockMillis;
    private final Mac1 mac1 = new Mac1();
    private final HandshakeBudget handshakeBudget = new HandshakeBudget();

    /** WireGuard message type of the current datagram, set by {@link ShapeFilter}. */
    int type;
    /** Route of the current datagram's source, set by {@link SourceLookup}. */
    Route route;
    /** Set by {@link Forwarder} just before it writes the forwarded datagram, for {@link TraceHasher}. */
    boolean forwardWriteInFlight;
    /**
     * Where the current datagram goes instead of the partner's committed endpoint, or
     * null; set by {@link RoamingWatch} while the partner's roaming candidate commits.
     */
    InetSocketAddress destinationOverride;

    public WorkerState(int stripe, RelayCounters counters, LongSupplier clockMillis) {
        this.stripe = stripe;
        this.counters = counters;
        this.clockMillis = clockMillis;
    }

    /** This worker's counter stripe. */
    public int stripe() {
        return stripe;
    }

    public RelayCounters counters() {
        return counters;
    }

    /** This worker's per-source drop table; touch only on this worker's event loop. */
    public DropSourceTable dropSources() {
        return dropSources;
    }

    /** This worker's MAC1 checker (keeps scratch buffers; not shared). */
    public Mac1 mac1() {
        return mac1;
    }

    /** This worker's bound on unknown-source MAC1 searches. */
    public HandshakeBudget handshakeBudget() {
        return handshakeBudget;
    }

    public long nowMillis() {
        return clockMillis.getAsLong();
    }

    public int type() {
        return type;
    }

    public Route route() {
        return route;
    }
}
