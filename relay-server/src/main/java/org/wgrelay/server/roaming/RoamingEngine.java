package org.wgrelay.server.roaming;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.pipeline.Datagram;
import org.wgrelay.server.pipeline.LinkedSourceWatch;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.state.EventSink;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
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
 * <p>Threads: worker event loops call {@link #onUnknownInitiation}, {@link #onUnknownOther}
 * and {@link #watch}; the control thread ({@code controlThread}, the daemon's timer
 * thread — the only writer of the control counter stripe) runs {@link #sweep} and the
 * roster half of a commit. Candidate state changes are compare-and-set, so one thread
 * wins each transition and counts it once. The transport-data path reads one volatile
 * field per peer (the slot's candidate, null in the common case) and takes no lock.
 *
 * <p>Threat model: a forger who knows a peer's public key can make a valid MAC1 but not
 * complete a handshake. Its candidate is answered by the partner at most — it never
 * sees the partner's transport data on that session, which only follows the real
 * initiator's first transport message. Replays and on-path copies are voided or expire,
 * each a strike; strikes escalate onto the blocklist.
 */
public final class RoamingEngine implements LinkedSourceWatch {
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
    private final Executor controlThread;
    /** Live candidates by source endpoint; at most one per peer, so bounded by the roster. */
    private final Map<InetSocketAddress, Candidate> bySource = new ConcurrentHashMap<>();
    private final java.util.List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public RoamingEngine(ForwardingTableHolder tables, RosterService roster, Blocklist blocklist, StrikeTable strikes,
            RelayCounters counters, LongSupplier clockMillis, EventSink events, Executor controlThread) {
        this.tables = tables;
        this.roster = roster;
        this.blocklist = blocklist;
        this.strikes = strikes;
        this.counters = counters;
        this.clockMillis = clockMillis;
        this.events = events;
        this.controlThread = controlThread;
    }

    /**
     * Told when a candidate is answered or ends; must not block. The XDP fast path uses
     * it to pass the partners' transport data up while a candidate is answered.
     */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    private void changed() {
        for (Runnable r : listeners) {
            r.run();
        }
    }

    // ---- rule 3, unknown sources (worker threads; the engine owns the packet) ----------

    /** An initiation from an unregistered endpoint: MAC1 search, then candidate rules. */
    public void onUnknownInitiation(ChannelHandlerContext ctx, DatagramPacket packet, WorkerState worker) {
        InetSocketAddress source = packet.sender();
        long now = worker.nowMillis();
        ForwardingTable table = tables.current();
        int keys = table.keyedLinkedCount();
        if (keys == 0) {
            drop(packet, worker, RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH, now);
            return;
        }
        if (!worker.handshakeBudget().tryAcquire(source.getAddress(), keys, now)) {
            drop(packet, worker, RelayCounter.DROP_HANDSHAKE_RATE_LIMITED, now); // SPEC A: searched no key
            return;
        }
        Route match = null;
        for (int i = 0; i < keys; i++) {
            Route r = table.keyedLinkedRoute(i);
            if (worker.mac1().verify(packet.content(), r.mac1Key())) {
                match = r; // P: the responder; its partner S is who the sender claims to be
                break;
            }
        }
        if (match == null) {
            drop(packet, worker, RelayCounter.DROP_HANDSHAKE_NO_PUBKEY_MATCH, now);
            return;
        }
        RoamingSlot slot = match.partnerRuntime().roaming();
        int senderIndex = WgMessage.index(packet.content(), WgMessage.SENDER_INDEX_OFFSET);
        boolean forward;
        Candidate registered = null;
        synchronized (slot) {
            Candidate c = candidateIn(slot);
            if (now - slot.lastRelearnMillis() < RELEARN_COOLDOWN_MILLIS) {
                forward = false;
            } else if (c != null && (c.isLive() || c.state() == Candidate.COMMITTING)) {
                if (c.address().equals(source)) {
                    c.refresh(senderIndex);
                    forward = c.state() == Candidate.COMMITTING || c.takeInitForward(now);
                } else {
                    forward = false; // S already has a candidate from another source
                }
            } else {
                registered = new Candidate(match.partner().name(), slot, Endpoint.of(source.getAddress(), source.getPort()),
                        senderIndex, now);
                slot.candidate(registered);
                bySource.put(registered.address(), registered);
                forward = true;
            }
        }
        if (registered != null) {
            LOG.info("candidate peer={} source={}", registered.peer(), registered.endpoint());
        }
        if (!forward) {
            drop(packet, worker, RelayCounter.DROP_UNKNOWN_SRC, now);
            return;
        }
        send(ctx, packet, match.peer().endpoint().socketAddress(), worker);
    }

    /** Types 2, 3 and 4 from an unregistered endpoint. */
    public void onUnknownOther(ChannelHandlerContext ctx, DatagramPacket packet, int type, WorkerState worker) {
        long now = worker.nowMillis();
        Candidate c = bySource.isEmpty() ? null : bySource.get(packet.sender());
        if (c != null) {
            int state = c.state();
            boolean committing = state == Candidate.COMMITTING;
            boolean answeredTransport = type == WgMessage.TYPE_TRANSPORT_DATA && state == Candidate.ANSWERED
                    && c.takeTransportForward(now);
            if (committing || answeredTransport) {
                Route route = tables.current().routeOf(c.peer());
                if (route != null && route.linked()) {
                    // Never commits by itself (rule 9): the partner's WireGuard judges it.
                    send(ctx, packet, route.partnerAddress(), worker);
                    return;
                }
            }
        }
        drop(packet, worker, RelayCounter.DROP_UNKNOWN_SRC, now);
    }

    // ---- rules 8 and 9 and voiding, registered sources (worker threads) ----------------

    /**
     * Looks at a datagram from a registered, linked endpoint on its way to the partner.
     * May mirror a type 2 to the partner's candidate (rule 8), void the sender's own
     * candidate, or decide a commit (rule 9). Returns where this datagram must go instead
     * of the partner's committed endpoint, or null.
     */
    @Override
    public InetSocketAddress watch(ChannelHandlerContext ctx, Datagram datagram, WorkerState worker) {
        DatagramPacket packet = datagram.packet();
        Route route = datagram.route();
        int type = datagram.type();
        Candidate own = candidateIn(route.runtime().roaming());
        if (own != null && own.isLive()) {
            // The committed endpoint shows it owns the candidate's handshake: the candidate is a copy.
            if ((type == WgMessage.TYPE_HANDSHAKE_INITIATION
                            && WgMessage.index(packet.content(), WgMessage.SENDER_INDEX_OFFSET) == own.senderIndex())
                    || (type == WgMessage.TYPE_TRANSPORT_DATA && own.isAnswered()
                            && WgMessage.index(packet.content(), WgMessage.RECEIVER_INDEX_OFFSET) == own.answerIndex())) {
                fail(own, Candidate.VOIDED, worker.stripe(), worker.nowMillis());
            }
        }
        Candidate theirs = candidateIn(route.partnerRuntime().roaming());
        if (theirs == null) {
            return null;
        }
        int state = theirs.state();
        if (type == WgMessage.TYPE_HANDSHAKE_RESPONSE && theirs.isLive()) {
            ctx.write(new DatagramPacket(packet.content().retainedDuplicate(), theirs.address()), ctx.voidPromise());
            if (theirs.markAnswered(WgMessage.index(packet.content(), WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET),
                    WgMessage.index(packet.content(), WgMessage.SENDER_INDEX_OFFSET))) {
                changed();
            }
            return null;
        }
        if (type == WgMessage.TYPE_TRANSPORT_DATA && state == Candidate.ANSWERED
                && WgMessage.index(packet.content(), WgMessage.RECEIVER_INDEX_OFFSET) == theirs.senderIndex()
                && theirs.transition(Candidate.COMMITTING, Candidate.ANSWERED)) {
            controlThread.execute(() -> finishCommit(theirs));
            return theirs.address();
        }
        return state == Candidate.COMMITTING ? theirs.address() : null;
    }

    // ---- timers and commits (control thread) -------------------------------------------

    /** Expires candidates older than 30 s and sweeps the strike table. Control thread. */
    public void sweep() {
        long now = clockMillis.getAsLong();
        for (Candidate c : bySource.values()) {
            if (c.isLive() && now - c.registeredAtMillis() >= CANDIDATE_TTL_MILLIS) {
                fail(c, Candidate.EXPIRED, counters.controlStripe(), now);
            }
        }
        strikes.sweep(now);
    }

    private void finishCommit(Candidate c) {
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
        runtime.stats().increment(runtime.stats().controlStripe(), PeerCounter.ENDPOINT_RELEARN);
        strikes.clear(c.endpoint().address());
        LOG.info("relearn peer={} endpoint={}", c.peer(), c.endpoint());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("peer", c.peer());
        data.put("endpoint", c.endpoint().toString());
        events.publish("state.wg.relearn", data);
    }

    /** A failed candidate: one drop_relearn_unconfirmed and one strike, once. */
    private void fail(Candidate c, int terminal, int stripe, long now) {
        if (!c.transition(terminal, Candidate.PENDING, Candidate.ANSWERED)) {
            return;
        }
        counters.increment(stripe, RelayCounter.DROP_RELEARN_UNCONFIRMED);
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

    /** Takes a finished candidate out of the tables; no roster lock, so workers may call it. */
    private void forget(Candidate c) {
        bySource.remove(c.address(), c);
        c.slot().clear(c);
        changed();
    }

    // ---- helpers ----------------------------------------------------------------------

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

    private static void send(ChannelHandlerContext ctx, DatagramPacket packet, InetSocketAddress to, WorkerState worker) {
        worker.counters().increment(worker.stripe(), RelayCounter.FWD_PACKETS);
        ctx.write(new DatagramPacket(packet.content(), to), ctx.voidPromise());
    }

    private static void drop(DatagramPacket packet, WorkerState worker, RelayCounter reason, long now) {
        worker.counters().increment(worker.stripe(), reason);
        worker.dropSources().record(packet.sender().getAddress(), reason, now);
        packet.release();
    }

    /** The engine is the only writer of slots, so whatever a slot holds is one of its candidates. */
    private static Candidate candidateIn(RoamingSlot slot) {
        return (Candidate) slot.candidate();
    }
}
