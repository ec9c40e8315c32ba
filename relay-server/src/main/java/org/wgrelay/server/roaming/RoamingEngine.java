package org.wgrelay.server.roaming;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.pipeline.Datagram;
import org.wgrelay.server.pipeline.LinkedSourceWatch;
import org.wgrelay.server.pipeline.UnidentifiedClaim;
import org.wgrelay.server.pipeline.UnknownSourcePolicy;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.state.EventSink;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Partner;
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
 * the slow work, in {@link CandidateFollowUps}: indexing and logging new candidates, counting and striking failed ones,
 * escalating onto the blocklist, committing to the roster, events, telling the XDP sync,
 * and the once-a-second {@link #sweep}. A task the full queue refuses is not lost for good:
 * the sweep finds every candidate whose transition was not followed up, through the peers'
 * slots, and does it then.
 *
 * <p>SPEC B's unidentified candidates (initiations that name a hub) live in
 * {@link UnidentifiedCandidates}; SPEC E's candidate standing in for a missing endpoint in
 * {@link StandIn}.
 *
 * <p>Threat model: a forger who knows a peer's public key can make a valid MAC1 but not
 * complete a handshake. Its candidate is answered by the partner at most — it never
 * sees the partner's transport data on that session, which only follows the real
 * initiator's first transport message. Replays and on-path copies are voided or expire,
 * each a strike; strikes escalate onto the blocklist.
 */
public final class RoamingEngine implements UnknownSourcePolicy, LinkedSourceWatch, UnidentifiedClaim {
    /** SPEC: a candidate not confirmed within 30 s of its registration expires. */
    public static final long CANDIDATE_TTL_MILLIS = 30_000;
    /** SPEC: no new candidate for a peer within 5 s of its last relearn. */
    public static final long RELEARN_COOLDOWN_MILLIS = 5_000;

    private final ForwardingTableHolder tables;
    private final Executor owner;
    private final CandidateFollowUps followUps;
    private final UnidentifiedCandidates unidentified;

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
        this.owner = owner;
        this.followUps = new CandidateFollowUps(tables, roster, blocklist, strikes, counters, clockMillis, events);
        this.unidentified = new UnidentifiedCandidates(tables, followUps, this::toOwner);
    }

    /**
     * Told on the owner thread when a candidate is answered or ends. The XDP fast path uses
     * it to pass the partners' transport data up while a candidate is answered.
     */
    public void addListener(Runnable listener) {
        followUps.addListener(listener);
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
            return unidentified.register(match, datagram, worker);
        }
        RoamingSlot slot = match.partnerRuntime().roaming();
        if (match.partner().endpoint() != null && now - slot.lastRelearnMillis() < RELEARN_COOLDOWN_MILLIS) {
            return RelayCounter.DROP_UNKNOWN_SRC; // SPEC E: no hold-off for a peer without an endpoint
        }
        int senderIndex = WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET);
        Candidate c = Candidate.in(slot);
        Candidate current = c;
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
            toOwner(() -> followUps.registered(registered));
            current = registered;
        }
        match.runtime().roaming().partnerInitiated(match.partnerRuntime().id(), senderIndex);
        RelayCounter verdict = StandIn.sendTo(datagram, match, worker);
        if (verdict == null) {
            current.reachedPartner();
        }
        return verdict;
    }

    /**
     * Types 2, 3 and 4 from an unregistered endpoint: only a candidate's, and only as rule 3
     * allows — plus SPEC E: a candidate's response to its partner's initiation, and the
     * transport data of an answered candidate whose peer has no endpoint, which may commit
     * its partner's candidate.
     */
    private RelayCounter fromCandidate(Datagram datagram, WorkerState worker) {
        Candidate c = followUps.bySource(datagram.sender());
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
            Candidate theirs = Candidate.in(to.runtime().roaming());
            if (theirs != null
                    && theirs.state() == Candidate.ANSWERED
                    && WgMessage.index(datagram.content(), WgMessage.RECEIVER_INDEX_OFFSET) == theirs.commitIndex()
                    && theirs.transition(Candidate.COMMITTING, Candidate.ANSWERED)) {
                toOwner(() -> followUps.finishCommit(theirs));
                datagram.redirect(theirs.address());
                return null;
            }
        }
        boolean committing = state == Candidate.COMMITTING;
        boolean answeredTransport =
                type == WgMessage.TYPE_TRANSPORT_DATA && state == Candidate.ANSWERED && c.takeTransportForward(now);
        if (committing || answeredTransport) {
            // Never commits by itself (rule 9): the partner's WireGuard judges it.
            InetSocketAddress address = StandIn.reach(to.address(), to.runtime().roaming(), type, now);
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
            theirs = Candidate.in(partner.runtime().roaming());
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
        toOwner(followUps::changed);
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
        boolean anyCandidate = RoamingSlot.anyOccupied(); // usually false: no slot read at all
        Candidate own = anyCandidate ? Candidate.in(route.runtime().roaming()) : null;
        if (own != null && own.isLive()) {
            // The committed endpoint shows it owns the candidate's handshake: the candidate is a copy.
            if (((type == WgMessage.TYPE_HANDSHAKE_INITIATION
                                    && WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET) == own.senderIndex())
                            || (type == WgMessage.TYPE_TRANSPORT_DATA
                                    && own.isAnswered()
                                    && WgMessage.index(content, WgMessage.RECEIVER_INDEX_OFFSET) == own.answerIndex()))
                    && own.transition(Candidate.VOIDED, Candidate.PENDING, Candidate.ANSWERED)) {
                toOwner(() -> followUps.settleFailure(own));
            }
        }
        Partner partner = datagram.partner();
        if (type == WgMessage.TYPE_HANDSHAKE_INITIATION) {
            RoamingSlot partnerSlot = partner.runtime().roaming();
            int senderIndex = WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET);
            partnerSlot.partnerInitiated(route.runtime().id(), senderIndex); // SPEC E's responder learning
            if (partnerSlot.hasUnidentified()) {
                unidentified.voidCopies(partnerSlot, senderIndex);
            }
        }
        Candidate theirs = anyCandidate ? Candidate.in(partner.runtime().roaming()) : null;
        if (theirs != null) {
            int state = theirs.state();
            if (type == WgMessage.TYPE_HANDSHAKE_RESPONSE && theirs.isLive()) {
                if (partner.address() != null) {
                    datagram.mirror(theirs.address());
                } // else the candidate stands in for the missing endpoint below: one copy is enough
                if (theirs.markAnswered(
                        WgMessage.index(content, WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET),
                        WgMessage.index(content, WgMessage.SENDER_INDEX_OFFSET))) {
                    toOwner(followUps::changed);
                }
            } else if (type == WgMessage.TYPE_TRANSPORT_DATA
                    && state == Candidate.ANSWERED
                    && WgMessage.index(content, WgMessage.RECEIVER_INDEX_OFFSET) == theirs.commitIndex()
                    && theirs.transition(Candidate.COMMITTING, Candidate.ANSWERED)) {
                toOwner(() -> followUps.finishCommit(theirs));
                datagram.redirect(theirs.address());
                return null;
            } else if (state == Candidate.COMMITTING) {
                datagram.redirect(theirs.address());
                return null;
            }
        }
        if (datagram.destination() == null) {
            InetSocketAddress standIn = StandIn.reach(null, partner.runtime().roaming(), type, worker.nowMillis());
            if (standIn == null) {
                return RelayCounter.DROP_NO_ENDPOINT;
            }
            datagram.redirect(standIn);
        }
        return null;
    }

    /** Hands follow-up work to the owner; a full queue leaves it to the next sweep. */
    private void toOwner(Runnable task) {
        try {
            owner.execute(task);
        } catch (RejectedExecutionException e) {
            // Counted by the owner's rejection policy; the sweep redoes what this would have done.
        }
    }

    // ---- the owner thread and reads, in CandidateFollowUps ----------------------------------

    /** Expires candidates older than 30 s, follows up what a full queue dropped, sweeps strikes. Owner only. */
    public void sweep() {
        followUps.sweep();
    }

    /** The live candidate of a peer, for {@code candidate_endpoint} in {@code wg peer list}. */
    public Candidate candidateOf(String peer) {
        return followUps.candidateOf(peer);
    }

    public int liveCandidates() {
        return followUps.liveCandidates();
    }

    public StrikeTable strikes() {
        return followUps.strikes();
    }

    @Override
    public Partner claim(Datagram response, int receiverIndex, WorkerState worker) {
        return unidentified.claim(response, receiverIndex, worker);
    }
}
