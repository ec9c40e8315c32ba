package org.wgrelay.server.roaming;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.state.EventSink;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.PeerRuntime;
import org.wgrelay.server.table.RoamingSlot;
import org.wgrelay.server.table.Route;

/**
 * Roaming's owner-thread half: what follows a transition a worker made on a candidate —
 * indexing and logging a new one, writing a commit to the roster, counting and striking a
 * failure and escalating it onto the blocklist, events, telling the XDP sync — and the
 * once-a-second {@link #sweep} that expires candidates and redoes whatever a full owner
 * queue refused. Every method but the reads runs on the owner thread only.
 */
final class CandidateFollowUps {
    private static final Logger LOG = LoggerFactory.getLogger(RoamingEngine.class);

    private final ForwardingTableHolder tables;
    private final RosterService roster;
    private final Blocklist blocklist;
    private final StrikeTable strikes;
    private final RelayCounters counters;
    private final LongSupplier clockMillis;
    private final EventSink events;
    /**
     * Candidates by source endpoint, for a candidate's own datagrams (types 2-4). Workers
     * only read it; the owner writes it. At most one candidate per peer is live.
     */
    private final Map<InetSocketAddress, Candidate> bySource = new ConcurrentHashMap<>();

    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    CandidateFollowUps(
            ForwardingTableHolder tables,
            RosterService roster,
            Blocklist blocklist,
            StrikeTable strikes,
            RelayCounters counters,
            LongSupplier clockMillis,
            EventSink events) {
        this.tables = tables;
        this.roster = roster;
        this.blocklist = blocklist;
        this.strikes = strikes;
        this.counters = counters;
        this.clockMillis = clockMillis;
        this.events = events;
    }

    /** The candidate registered from {@code source}, or null; any thread, no allocation when none roams. */
    Candidate bySource(InetSocketAddress source) {
        return bySource.isEmpty() ? null : bySource.get(source);
    }

    void addListener(Runnable listener) {
        listeners.add(listener);
    }

    /** Expires candidates older than 30 s, follows up what a full queue dropped, sweeps strikes. Owner only. */
    public void sweep() {
        long now = clockMillis.getAsLong();
        for (Candidate c : knownCandidates()) {
            if (c.isLive()
                    && now - c.registeredAtMillis() >= RoamingEngine.CANDIDATE_TTL_MILLIS
                    && c.transition(Candidate.EXPIRED, Candidate.PENDING, Candidate.ANSWERED)) {
                settleFailure(c);
            } else if (c.failed()) {
                settleFailure(c);
            } else if (c.state() == Candidate.COMMITTING) {
                finishCommit(c);
            } else if (c.isLive() && !c.isUnidentified() && bySource.get(c.address()) != c) {
                registered(c);
            } else if (!c.isLive()) {
                forget(c);
            }
        }
        strikes.sweep(now);
    }

    /** Every candidate in a peer's slot or in the source index, each once. */
    private Set<Candidate> knownCandidates() {
        Set<Candidate> all = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Route r : tables.current().routes()) {
            RoamingSlot slot = r.runtime().roaming();
            Candidate c = Candidate.in(slot);
            if (c != null) {
                all.add(c);
            }
            for (int i = 0; slot.hasUnidentified() && i < RoamingSlot.MAX_UNIDENTIFIED; i++) {
                Candidate u = (Candidate) slot.unidentifiedAt(i);
                if (u != null) {
                    all.add(u);
                }
            }
        }
        all.addAll(bySource.values());
        return all;
    }

    /** A worker registered {@code c}: index it by source (if it is still current) and log it. */
    void registered(Candidate c) {
        if (c.slot().candidate() != c || !(c.isLive() || c.state() == Candidate.COMMITTING)) {
            return;
        }
        bySource.put(c.address(), c);
        LOG.info("candidate peer={} source={}", c.peer(), c.endpoint());
    }

    void finishCommit(Candidate c) {
        if (c.state() != Candidate.COMMITTING) {
            return; // done already (a sweep may run it after the queued task)
        }
        long now = clockMillis.getAsLong();
        RosterChange change = roster.relearn(c.peer(), c.endpoint());
        PeerRuntime runtime = roster.runtimeOf(c.peer());
        if (!change.ok() || runtime == null) {
            c.transition(Candidate.CANCELLED, Candidate.COMMITTING);
            forget(c);
            LOG.warn("relearn of peer={} to {} not applied: {}", c.peer(), c.endpoint(), change.message());
            return;
        }
        c.transition(Candidate.COMMITTED, Candidate.COMMITTING);
        c.slot().relearned(now);
        forget(c);
        runtime.stats().increment(runtime.stats().ownerStripe(), PeerCounter.ENDPOINT_RELEARN);
        strikes.clear(c.endpoint().address());
        LOG.info("relearn peer={} endpoint={}", c.peer(), c.endpoint());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("peer", c.peer());
        data.put("endpoint", c.endpoint().toString());
        events.publish("state.wg.relearn", data);
    }

    /**
     * A failed (voided or expired) candidate: one drop_relearn_unconfirmed and one strike, once.
     * No strike for a candidate that never reached anyone (see {@link Candidate#reachedAnyone}):
     * a peer registered by key only that waits for a partner who is offline too would otherwise
     * strike itself onto the blocklist every minute.
     */
    void settleFailure(Candidate c) {
        if (c.failureSettled) {
            return;
        }
        c.failureSettled = true;
        long now = clockMillis.getAsLong();
        counters.increment(counters.ownerStripe(), RelayCounter.DROP_RELEARN_UNCONFIRMED);
        forget(c);
        if (!c.reachedAnyone()) {
            return;
        }
        InetAddress ip = c.endpoint().address();
        StrikeTable.Escalation up = strikes.strike(ip, now);
        if (up != null) {
            blocklist.block(ip, now + up.millis(), up.totalStrikes());
            roster.store().shareStrikeBlock(ip, up.millis() / 1000, up.totalStrikes()); // SPEC C: fleet-wide
            LOG.info("blocklist ip={} strikes={} seconds={}", Endpoint.hostText(ip), up.strikes(), up.millis() / 1000);
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("ip", Endpoint.hostText(ip));
            data.put("seconds", up.millis() / 1000);
            data.put("total_strikes", up.totalStrikes());
            events.publish("state.wg.blocklist_added", data);
        }
    }

    /** Takes a finished candidate out of the index and its slot. */
    void forget(Candidate c) {
        if (c.isUnidentified()) {
            c.slot().clearUnidentified(c);
            return; // nothing of it reached the XDP maps
        }
        bySource.remove(c.address(), c);
        c.slot().clear(c);
        changed();
    }

    void changed() {
        for (Runnable r : listeners) {
            r.run();
        }
    }

    /** The live candidate of a peer, for {@code candidate_endpoint} in {@code wg peer list}. */
    public Candidate candidateOf(String peer) {
        PeerRuntime r = roster.runtimeOf(peer);
        Candidate c = r == null ? null : Candidate.in(r.roaming());
        return c != null && (c.isLive() || c.state() == Candidate.COMMITTING) ? c : null;
    }

    public int liveCandidates() {
        return bySource.size();
    }

    public StrikeTable strikes() {
        return strikes;
    }
}
