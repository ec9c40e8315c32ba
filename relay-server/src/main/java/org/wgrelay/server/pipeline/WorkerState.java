package org.wgrelay.server.pipeline;

import java.util.function.LongSupplier;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.wire.Mac1;

/**
 * What lives as long as one worker and its handlers share: its counter stripe, its
 * per-source drop table, its MAC1 scratch, its handshake search budget and the clock.
 * Every field is owned by that worker's event loop: handlers use it without
 * synchronisation. Nothing about a single datagram is kept here; that travels in the
 * {@link Datagram} message itself.
 */
public final class WorkerState {
    private final int stripe;
    private final RelayCounters counters;
    private final DropSourceTable dropSources = new DropSourceTable();
    private final LongSupplier clockMillis;
    private final Mac1 mac1 = new Mac1();
    private final HandshakeBudget handshakeBudget = new HandshakeBudget();
    private final OutboundDatagram.Pool outbound = new OutboundDatagram.Pool();
    private final SegmentBatcher segments = new SegmentBatcher(outbound);

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

    /** The envelopes this worker's datagrams leave in, reused (no allocation per datagram). */
    public OutboundDatagram.Pool outbound() {
        return outbound;
    }

    /** Where this worker's datagrams are sent through: UDP GSO groups when enabled. */
    public SegmentBatcher segments() {
        return segments;
    }

    /** This worker's bound on unknown-source MAC1 searches. */
    public HandshakeBudget handshakeBudget() {
        return handshakeBudget;
    }

    public long nowMillis() {
        return clockMillis.getAsLong();
    }
}
