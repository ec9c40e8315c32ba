package org.wgrelay.server.roaming;

import io.netty.buffer.ByteBuf;
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
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.pipeline.Datagram;
import org.wgrelay.server.pipeline.HubIndexMiss;
import org.wgrelay.server.pipeline.LinkedSourceWatch;
import org.wgrelay.server.pipeline.UnknownSourcePolicy;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.state.EventSink;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.table.PeerRuntime;
import org.wgrelay.server.table.RoamingSlot;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.wire.WgMessage;

/**
 * Automatic roaming (SPEC rules 3, 8, 9 and the timers): recognises a peer at a new
 * address by the MAC1 of its initiation, tries it as a candidate, commits it only on
 * the partner's own transport data on the candidate's session, and strikes (then
 * blocks) sources whose candidates fail.
 *
 * <p>Two halves on two kinds of thread. On the workers it is a verdict engine behind the
 * pipeline's two seams: {@link #decide} says what becomes of an unknown source's datagram
 * and {@link #watch} marks a registered one for a mirror or a redirect; the pipeline's
 * handlers do every write and every count. A worker only reads the table, compares and
 * sets a candidate's state or a slot, and hands whatever follows from a transition to the
 * owner — it never writes to a socket, takes a lock, logs or copies a table.
 *
 * <p>The owner ({@code owner}, the daemon's one owner thread, behind a bounded queue) does
 * the slow work: indexing and logging new candidates, counting and striking failed ones,
 * escalating onto the blocklist, committing to the roster, events, telling the XDP sync,
 * and the once-a-second {@link #sweep}. A task the full queue refuses is not lost for good:
 * the sweep finds every candidate whose transition was not followed up, through the peers'
 * slots, and does it then.
 *
 * <p>Threat model: a forger who knows a peer's public key can make a valid MAC1 but not
 * complete a handshake. Its candidate is answered by the partner at most — it never
 * sees the partner's transport data on that session, which only follows the real
 * initiator's first transport message. Replays and on-path copies are voided or expire,
 * each a strike; strikes escalate onto the blocklist.
 */
public final class RoamingEngine implements UnknownSourcePolicy, LinkedSourceWatch, HubIndexMiss {
    private static final Logger LOG = LoggerFactory.getLogger(RoamingEngine.class);
    /** SPEC: a candidate not confirmed within 30 s of its registration expires. */
    public static final long CANDIDATE_TTL_MILLIS = 30_000;
    /** SPEC: no new candidate for a peer within 5 s of its last relearn. */
    public static final long RELEARN_COOLDOWN_MILLIS = 5_000;

    private final ForwardingTableHolder tables;
    private final RosterService roster;
    private final Blocklist blocklist;
    private final StrikeTable strikes;
    private final RelayCounters counters;
    private final LongSupplier clockMillis;
    private final EventSink events;
    private final Executor owner;
    /**
     * Candidates by source endpoint, for a candidate's own datagrams (types 2-4). Workers
     * only read it; the owner writes it. At most one candidate per peer is live.
     */
    private final Map<InetSocketAddress, Candidate> bySource = new ConcurrentHashMap<>();

    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** @param owner the one owner thread; its queue must be bounded and must not block a worker */
    public RoamingEngine(
            ForwardingTableHolder tables,
            RosterService roster,
            Blocklist blocklist,
            StrikeTable strikes,
            RelayCounters counters,
            LongSupplier clockMillis,
            EventSink events,
            Executor owner) {
        this.tables = tables;
        this.roster = roster;
        this.blocklist = blocklist;
        this.strikes = strikes;
        this.counters = counters;
        this.clockMillis = clockMillis;
        this.events = events;
        this.owner = owner;
    }

    /**
     * Told on the owner thread when a candidate is answered or ends. The XDP fast path uses
     * it to pass the partners' transport data up while a candidate is answered.
     */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    // ---- rule 3, unknown sources (worker threads) ---------------------------------------

    @Override
    public RelayCounter decide(Datagram datagram, WorkerState worker) {
        return datagram.type() == WgMessage.TYPE_HANDSHAKE_INITIATION
                ? initiation(datagram, worker)
                : fromCandidate(datagram, worker);
    }

    /** An initiation from an unregistered endpoint: MAC1 search, then the candidate rules. */
    private RelayCounter initiation(Datagram datagram, WorkerState worker) {
        InetSocketAddress source = datagram.sender();
        long now = worker.nowMillis();
        ForwardingTable table = tables.current();
        int keys = table.keyedLinkedCount();
        if (keys == 0) {
            return RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH;
        }
        if (!worker.handshakeBudget().tryAcquire(source.getAddress(), keys, now)) {
            return RelayCounter.DROP_HANDSHAKE_RATE_LIMITED; // SPEC A: searched no key
        }
        ByteBuf content = datagram.content();
        Route match = null;
        for (int i = 0; i < keys; i++) {
            Route r = table.keyedLinkedRoute(i);
            if (worker.mac1().verify(content, r.mac1Key())) {
                match = r; // P: the responder; its partner S is who the sender claims to be
                break;
            }
        }
        if (match == null) {
            return RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH;
        }
        if (match.isHub()) {
            return unidentified(match, datagram, worker);
        }
        RoamingSlot slot = match.partnerRuntime().roaming();
        if (match.partner().endpoint() != null && now - slot.lastRelearnMillis() < RELEARN_COOLDOWN_MILLIS) {
            return RelayCounter.DROP_UNKNOWN_SRC; // SPEC E: no hold-off for a peer without an endpoint
        }
        int senderIndex = WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET);
        Candidate c = candidateIn(slot);
        if (c != null && (c.isLive() || c.state() == Candidate.COMMITTING)) {
            if (!c.address().equals(source)) {
                return RelayCounter.DROP_UNKNOWN_SRC; // S already has a candidate from another source
            }
            c.refresh(senderIndex);
            if (c.state() != Candidate.COMMITTING && !c.takeInitForward(now)) {
                return RelayCounter.DROP_UNKNOWN_SRC;
            }
        } else {
            Candidate registered = new Candidate(
                    match.partner().name(), slot, Endpoint.of(source.getAddress(), source.getPort()), senderIndex, now);
            if (!slot.replace(c, registered)) {
                return RelayCounter.DROP_UNKNOWN_SRC; // another worker registered one for S first
            }
            toOwner(() -> registered(registered));
        }
        match.runtime().roaming().partnerInitiated(match.partnerRuntime().id(), senderIndex);
        return sendTo(datagram, match, worker);
    }

    /**
     * Redirects an unknown source's datagram to peer {@code to}'s endpoint or, without one,
     * to its candidate (SPEC E); null when sent, else {@code drop_no_endpoint}, also counted
     * as the peer's own. An initiation is remembered as the peer's partner's last (SPEC E's
     * responder learning).
     */
    private RelayCounter sendTo(Datagram datagram, Route to, WorkerState worker) {
        InetSocketAddress address = reach(
                to.peer().endpoint() == null ? null : to.peer().endpoint().socketAddress(),
                to.runtime().roaming(),
                datagram.type(),
                worker.nowMillis());
        if (address == null) {
            to.stats().increment(worker.stripe(), PeerCounter.DROP_NO_ENDPOINT);
            return RelayCounter.DROP_NO_ENDPOINT;
        }
        datagram.redirect(address);
        return null;
    }

    /**
     * Where a datagram for a peer goes: its committed endpoint {@code address}, or (SPEC E)
     * when it has none the candidate in its {@code slot}, at most one initiation and one
     * transport datagram a second; null when neither may take it.
     */
    private static InetSocketAddress reach(InetSocketAddress address, RoamingSlot slot, int type, long now) {
        if (address != null) {
            return address;
        }
        Candidate c = candidateIn(slot);
        if (c == null || !(c.isLive() || c.state() == Candidate.COMMITTING)) {
            return null;
        }
        if ((type == WgMessage.TYPE_HANDSHAKE_INITIATION && !c.takeStandInInit(now))
                || (type == WgMessage.TYPE_TRANSPORT_DATA && !c.takeStandInTransport(now))) {
            return null;
        }
        return c.address();
    }

    /**
     * SPEC B: an initiation from an unknown source whose MAC1 names hub {@code hub} says
     * nothing of which spoke sent it. It waits in the hub's slot as an unidentified candidate
     * (one per source endpoint, 64 per hub), retried as rule 3 retries, until the hub's
     * response identifies it ({@link #claim}).
     */
    private RelayCounter unidentified(Route hub, Datagram datagram, WorkerState worker) {
        long now = worker.nowMillis();
        InetSocketAddress source = datagram.sender();
        int senderIndex = WgMessage.index(datagram.content(), WgMessage.SENDER_INDEX_OFFSET);
        Candidate known = bySource.isEmpty() ? null : bySource.get(source);
        if (known != null && (known.isLive() || known.state() == Candidate.COMMITTING)) {
            return RelayCounter.DROP_UNKNOWN_SRC; // already some spoke's candidate
        }
        RoamingSlot hubSlot = hub.runtime().roaming();
        Candidate same = unidentifiedFrom(hubSlot, source);
        if (same != null) {
            same.refresh(senderIndex);
            if (!same.takeInitForward(now)) {
                return RelayCounter.DROP_UNKNOWN_SRC;
            }
        } else {
            Candidate u = Candidate.unidentified(
                    hub.peer().name(), hubSlot, Endpoint.of(source.getAddress(), source.getPort()), senderIndex, now);
            if (!hubSlot.addUnidentified(u)) {
                return RelayCounter.DROP_UNKNOWN_SRC; // 64 are waiting already
            }
            toOwner(() -> LOG.info("candidate hub={} source={} unidentified", u.hub(), u.endpoint()));
        }
        return sendTo(datagram, hub, worker);
    }

    private static Candidate unidentifiedFrom(RoamingSlot hubSlot, InetSocketAddress source) {
        if (!hubSlot.hasUnidentified()) {
            return null;
        }
        for (int i = 0; i < RoamingSlot.MAX_UNIDENTIFIED; i++) {
            Candidate c = (Candidate) hubSlot.unidentifiedAt(i);
            if (c != null && c.isLive() && c.address().equals(source)) {
                return c;
            }
        }
        return null;
    }

    /**
     * SPEC B: a hub's response whose receiver index its session index does not know may answer
     * an unidentified candidate. Its MAC1 is made with the initiator's public key (a responder
     * keys MAC1 with the initiator's static key), so exactly one spoke's key verifies it, and
     * that spoke is who the candidate is: it becomes that spoke's pending candidate, the hub's
     * index learns the candidate's sender index for the spoke, and the response goes on to the
     * spoke, where rule 8 mirrors it to the candidate and marks it answered.
     */
    @Override
    public Partner claim(Datagram response, int receiverIndex, WorkerState worker) {
        Route hub = response.route();
        RoamingSlot hubSlot = hub.runtime().roaming();
        if (!hubSlot.hasUnidentified()) {
            return null;
        }
        for (int i = 0; i < RoamingSlot.MAX_UNIDENTIFIED; i++) {
            Candidate u = (Candidate) hubSlot.unidentifiedAt(i);
            if (u != null && u.state() == Candidate.PENDING && u.senderIndex() == receiverIndex) {
                return identify(hub, u, response, worker);
            }
        }
        return null;
    }

    private Partner identify(Route hub, Candidate u, Datagram response, WorkerState worker) {
        Partner spoke = null;
        for (int i = 0, n = hub.partnerCount(); i < n; i++) {
            Partner p = hub.partner(i);
            if (p.mac1Key() != null && worker.mac1().verify(response.content(), p.mac1Key())) {
                if (spoke != null) {
                    return null; // two spokes share a key: it names nobody
                }
                spoke = p;
            }
        }
        if (spoke == null) {
            return null;
        }
        long now = worker.nowMillis();
        RoamingSlot spokeSlot = spoke.runtime().roaming();
        Candidate existing = candidateIn(spokeSlot);
        if ((spoke.address() != null && now - spokeSlot.lastRelearnMillis() < RELEARN_COOLDOWN_MILLIS)
                || (existing != null && (existing.isLive() || existing.state() == Candidate.COMMITTING))) {
            return null; // as rule 3: no candidate now, or the spoke has one from elsewhere
        }
        Candidate identified = u.identifiedAs(spoke.peer().name(), spokeSlot);
        if (!u.transition(Candidate.IDENTIFIED, Candidate.PENDING)) {
            return null;
        }
        u.slot().clearUnidentified(u);
        if (!spokeSlot.replace(existing, identified)) {
            return null; // another worker registered one for the spoke first
        }
        Route spokeRoute = tables.current().routeOf(spoke.peer().name());
        Partner hubOfSpoke =
                spokeRoute == null ? null : spokeRoute.partnerById(hub.runtime().id());
        if (hubOfSpoke != null) {
            hub.runtime()
                    .sessions()
                    .record(identified.senderIndex(), spoke.runtime().id(), hubOfSpoke.ring(), now);
        }
        toOwner(() -> registered(identified));
        return spoke;
    }

    /**
     * Types 2, 3 and 4 from an unregistered endpoint: only a candidate's, and only as rule 3
     * allows — plus SPEC E: a candidate's response to its partner's initiation, and the
     * transport data of an answered candidate whose peer has no endpoint, which may commit
     * its partner's candidate.
     */
    private RelayCounter fromCandidate(Datagram datagram, WorkerState worker) {
        Candidate c = bySource.isEmpty() ? null : bySource.get(datagram.sender());
        if (c == null) {
            return RelayCounter.DROP_UNKNOWN_SRC;
        }
        long now = worker.nowMillis();
        int type = datagram.type();
        int state = c.state();
        if (type == WgMessage.TYPE_HANDSHAKE_RESPONSE && state == Candidate.PENDING) {
            return response(c, datagram, worker);
        }
        Route route = tables.current().routeOf(c.peer());
        Partner to = route == null ? null : partnerFor(route, datagram, now);
        if (to == null) {
            return RelayCounter.DROP_UNKNOWN_SRC;
        }
        if (type == WgMessage.TYPE_TRANSPORT_DATA
                && state == Candidate.ANSWERED
                && route.peer().endpoint() == null) {
            // SPEC E: a peer without an endpoint sends its transport data from its answered candidate;
            // to the partner's answered candidate's commit index, it commits that candidate.
            Candidate theirs = candidateIn(to.runtime().roaming());
            if (theirs != null
                    && theirs.state() == Candidate.ANSWERED
                    && WgMessage.index(datagram.content(), WgMessage.RECEIVER_INDEX_OFFSET) == theirs.commitIndex()
                    && theirs.transition(Candidate.COMMITTING, Candidate.ANSWERED)) {
                toOwner(() -> finishCommit(theirs));
                datagram.redirect(theirs.address());
                return null;
            }
        }
        boolean committing = state == Candidate.COMMITTING;
        boolean answeredTransport =
                type == WgMessage.TYPE_TRANSPORT_DATA && state == Candidate.ANSWERED && c.takeTransportForward(now);
        if (committing || answeredTransport) {
            // Never commits by itself (rule 9): the partner's WireGuard judges it.
            InetSocketAddress address = reach(to.address(), to.runtime().roaming(), type, now);
            if (address == null) {
                to.runtime().stats().increment(worker.stripe(), PeerCounter.DROP_NO_ENDPOINT);
                return RelayCounter.DROP_NO_ENDPOINT;
            }
            datagram.redirect(address);
            return null;
        }
        return RelayCounter.DROP_UNKNOWN_SRC;
    }

    /**
     * SPEC E, the partner initiated and the peer answers: a response from the peer's pending
     * candidate to the sender index of the last initiation a partner sent the peer, with a
     * MAC1 for that partner's key, goes to the partner (its endpoint, else its candidate,
     * which it answers as in rule 8); its sender index becomes the candidate's answer index,
     * and the partner's transport data to it will commit the candidate.
     */
    private RelayCounter response(Candidate c, Datagram datagram, WorkerState worker) {
        Route peer = tables.current().routeOf(c.peer());
        long initiation = c.slot().lastPartnerInitiation();
        ByteBuf content = datagram.content();
        int receiverIndex = WgMessage.index(content, WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET);
        if (peer == null || initiation == 0 || RoamingSlot.initiationIndex(initiation) != receiverIndex) {
            return RelayCounter.DROP_UNKNOWN_SRC;
        }
        Partner partner = peer.partnerById(RoamingSlot.initiatingPartner(initiation));
        if (partner == null || partner.mac1Key() == null || !worker.mac1().verify(content, partner.mac1Key())) {
            return RelayCounter.DROP_UNKNOWN_SRC;
        }
        InetSocketAddress to = partner.address();
        Candidate theirs = null;
        if (to == null) {
            theirs = candidateIn(partner.runtime().roaming());
            if (theirs == null || !theirs.isLive()) {
                partner.runtime().stats().increment(worker.stripe(), PeerCounter.DROP_NO_ENDPOINT);
                return RelayCounter.DROP_NO_ENDPOINT;
            }
            to = theirs.address();
        }
        int responseSenderIndex = WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET);
        if (!c.markResponded(responseSenderIndex)) {
            return RelayCounter.DROP_UNKNOWN_SRC;
        }
        if (theirs != null) {
            theirs.markAnswered(receiverIndex, responseSenderIndex);
        }
        // A hub partner's later datagrams name the peer by this index (SPEC B's session index).
        partner.runtime()
                .sessions()
                .record(responseSenderIndex, peer.runtime().id(), partner.ring(), worker.nowMillis());
        toOwner(this::changed);
        datagram.redirect(to);
        return null;
    }

    /** Where a candidate's datagram goes: its peer's one partner, or for a hub the partner its receiver index names. */
    private static Partner partnerFor(Route route, Datagram datagram, long now) {
        if (!route.isHub()) {
            return route.solePartner();
        }
        int offset = datagram.type() == WgMessage.TYPE_HANDSHAKE_RESPONSE
                ? WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET
                : WgMessage.RECEIVER_INDEX_OFFSET;
        return route.runtime().sessions().lookup(WgMessage.index(datagram.content(), offset), route, now);
    }

    // ---- rules 8 and 9 and voiding, registered sources (worker threads) ----------------

    /**
     * Looks at a datagram from a registered, linked endpoint on its way to the partner.
     * May mirror a type 2 to the partner's candidate (rule 8), void the sender's own
     * candidate, or decide a commit (rule 9), after which the datagram goes to the
     * candidate instead of the partner's committed endpoint. For a partner without an
     * endpoint (SPEC E) its candidate stands in; with none the datagram is
     * {@code drop_no_endpoint}.
     */
    @Override
    public RelayCounter watch(Datagram datagram, WorkerState worker) {
        Route route = datagram.route();
        int type = datagram.type();
        ByteBuf content = datagram.content();
        Candidate own = candidateIn(route.runtime().roaming());
        if (own != null && own.isLive()) {
            // The committed endpoint shows it owns the candidate's handshake: the candidate is a copy.
            if (((type == WgMessage.TYPE_HANDSHAKE_INITIATION
                                    && WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET) == own.senderIndex())
                            || (type == WgMessage.TYPE_TRANSPORT_DATA
                                    && own.isAnswered()
                                    && WgMessage.index(content, WgMessage.RECEIVER_INDEX_OFFSET) == own.answerIndex()))
                    && own.transition(Candidate.VOIDED, Candidate.PENDING, Candidate.ANSWERED)) {
                toOwner(() -> settleFailure(own));
            }
        }
        Partner partner = datagram.partner();
        RoamingSlot partnerSlot = partner.runtime().roaming();
        if (type == WgMessage.TYPE_HANDSHAKE_INITIATION) {
            int senderIndex = WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET);
            partnerSlot.partnerInitiated(route.runtime().id(), senderIndex); // SPEC E's responder learning
            if (partnerSlot.hasUnidentified()) {
                voidUnidentifiedCopy(partnerSlot, senderIndex);
            }
        }
        Candidate theirs = candidateIn(partnerSlot);
        if (theirs != null) {
            int state = theirs.state();
            if (type == WgMessage.TYPE_HANDSHAKE_RESPONSE && theirs.isLive()) {
                if (partner.address() != null) {
                    datagram.mirror(theirs.address());
                } // else the candidate stands in for the missing endpoint below: one copy is enough
                if (theirs.markAnswered(
                        WgMessage.index(content, WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET),
                        WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET))) {
                    toOwner(this::changed);
                }
            } else if (type == WgMessage.TYPE_TRANSPORT_DATA
                    && state == Candidate.ANSWERED
                    && WgMessage.index(content, WgMessage.RECEIVER_INDEX_OFFSET) == theirs.commitIndex()
                    && theirs.transition(Candidate.COMMITTING, Candidate.ANSWERED)) {
                toOwner(() -> finishCommit(theirs));
                datagram.redirect(theirs.address());
                return null;
            } else if (state == Candidate.COMMITTING) {
                datagram.redirect(theirs.address());
                return null;
            }
        }
        if (datagram.destination() == null) {
            InetSocketAddress standIn = reach(null, partnerSlot, type, worker.nowMillis());
            if (standIn == null) {
                return RelayCounter.DROP_NO_ENDPOINT;
            }
            datagram.redirect(standIn);
        }
        return null;
    }

    /**
     * A registered spoke's initiation to its hub with the sender index an unidentified candidate
     * of the hub stored: the candidate was a copy of it (voiding, SPEC B with rule 8).
     */
    private void voidUnidentifiedCopy(RoamingSlot hubSlot, int senderIndex) {
        for (int i = 0; i < RoamingSlot.MAX_UNIDENTIFIED; i++) {
            Candidate u = (Candidate) hubSlot.unidentifiedAt(i);
            if (u != null
                    && u.senderIndex() == senderIndex
                    && u.transition(Candidate.VOIDED, Candidate.PENDING, Candidate.ANSWERED)) {
                toOwner(() -> settleFailure(u));
            }
        }
    }

    /** Hands follow-up work to the owner; a full queue leaves it to the next sweep. */
    private void toOwner(Runnable task) {
        try {
            owner.execute(task);
        } catch (RejectedExecutionException e) {
            // Counted by the owner's rejection policy; the sweep redoes what this would have done.
        }
    }

    // ---- the owner thread ---------------------------------------------------------------

    /** Expires candidates older than 30 s, follows up what a full queue dropped, sweeps strikes. Owner only. */
    public void sweep() {
        long now = clockMillis.getAsLong();
        for (Candidate c : knownCandidates()) {
            if (c.isLive()
                    && now - c.registeredAtMillis() >= CANDIDATE_TTL_MILLIS
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
            Candidate c = candidateIn(slot);
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
    private void registered(Candidate c) {
        if (c.slot().candidate() != c || !(c.isLive() || c.state() == Candidate.COMMITTING)) {
            return;
        }
        bySource.put(c.address(), c);
        LOG.info("candidate peer={} source={}", c.peer(), c.endpoint());
    }

    private void finishCommit(Candidate c) {
        if (c.state() != Candidate.COMMITTING) {
            return; // done already (a sweep may run it after the queued task)
        }
        long now = clockMillis.getAsLong();
        RosterChange change = roster.updateEndpoint(c.peer(), c.endpoint());
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

    /** A failed (voided or expired) candidate: one drop_relearn_unconfirmed and one strike, once. */
    private void settleFailure(Candidate c) {
        if (c.failureSettled) {
            return;
        }
        c.failureSettled = true;
        long now = clockMillis.getAsLong();
        counters.increment(counters.ownerStripe(), RelayCounter.DROP_RELEARN_UNCONFIRMED);
        forget(c);
        InetAddress ip = c.endpoint().address();
        StrikeTable.Escalation up = strikes.strike(ip, now);
        if (up != null) {
            blocklist.block(ip, now + up.millis(), up.totalStrikes());
            LOG.info("blocklist ip={} strikes={} seconds={}", Endpoint.hostText(ip), up.strikes(), up.millis() / 1000);
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("ip", Endpoint.hostText(ip));
            data.put("seconds", up.millis() / 1000);
            data.put("total_strikes", up.totalStrikes());
            events.publish("state.wg.blocklist_added", data);
        }
    }

    /** Takes a finished candidate out of the index and its slot. */
    private void forget(Candidate c) {
        if (c.isUnidentified()) {
            c.slot().clearUnidentified(c);
            return; // nothing of it reached the XDP maps
        }
        bySource.remove(c.address(), c);
        c.slot().clear(c);
        changed();
    }

    private void changed() {
        for (Runnable r : listeners) {
            r.run();
        }
    }

    // ---- reads ------------------------------------------------------------------------

    /** The live candidate of a peer, for {@code candidate_endpoint} in {@code wg peer list}. */
    public Candidate candidateOf(String peer) {
        PeerRuntime r = roster.runtimeOf(peer);
        Candidate c = r == null ? null : candidateIn(r.roaming());
        return c != null && (c.isLive() || c.state() == Candidate.COMMITTING) ? c : null;
    }

    public int liveCandidates() {
        return bySource.size();
    }

    public StrikeTable strikes() {
        return strikes;
    }

    /** The engine is the only writer of slots, so whatever a slot holds is one of its candidates. */
    private static Candidate candidateIn(RoamingSlot slot) {
        return (Candidate) slot.candidate();
    }
}
