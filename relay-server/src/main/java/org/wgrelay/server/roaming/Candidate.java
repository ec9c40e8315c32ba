package org.wgrelay.server.roaming;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.table.RoamingCandidate;
import org.wgrelay.server.table.RoamingSlot;

/**
 * A source endpoint that claims to be peer S at a new address (SPEC rule 3): registered
 * by a type-1 whose MAC1 names S's partner, answered when the partner's type-2 answers
 * its sender index (rule 8), committed only by the partner's own transport data on that
 * session (rule 9), and otherwise voided or expired — a failed candidate, one strike.
 *
 * <p>Shared by the workers without a lock: the candidate's packets and the partner's can
 * land on different event loops. The stored sender index and the state live in one
 * atomic word, so a retry that changes the index and an answer to the old index cannot
 * both win; every state change is a compare-and-set, so exactly one thread makes each
 * transition and the engine acts on it once.
 */
public final class Candidate implements RoamingCandidate {
    public static final int PENDING = 0;
    public static final int ANSWERED = 1;
    /** Commit decided; the roster update is under way. Traffic already follows the candidate. */
    public static final int COMMITTING = 2;
    /** Terminal states. */
    public static final int COMMITTED = 3;

    public static final int VOIDED = 4;
    public static final int EXPIRED = 5;
    public static final int CANCELLED = 6;
    /** An unidentified candidate that the hub's response identified: it lives on as its spoke's. */
    public static final int IDENTIFIED = 7;

    private static final long STATE_MASK = 0xff;

    private final String peer;
    /** For an unidentified candidate (SPEC B) the hub its initiation named, else null. */
    private final String hub;

    private final RoamingSlot slot;
    private final Endpoint endpoint;
    private final long registeredAtMillis;
    /** The stored sender index (high 32 bits of the low 40) and the state (low 8 bits). */
    private final AtomicLong word;
    /** The partner's answer's sender index; meaningful while the state is {@link #ANSWERED}. */
    private volatile int answerIndex;
    /** Rate limits of rule 3: retries and type-4 forwards, each at most once per second. */
    private volatile long lastInitForwardMillis;

    private volatile long lastTransportForwardMillis;
    /**
     * SPEC E: the candidate answered the partner's initiation (its peer is the responder), so
     * the partner's transport data to {@link #answerIndex} commits it, not to the sender index.
     */
    private volatile boolean responder;
    /** SPEC E: datagrams for an endpoint-less peer sent to this candidate, each kind once a second. */
    private volatile long lastStandInInitMillis = Long.MIN_VALUE / 2;

    private volatile long lastStandInTransportMillis = Long.MIN_VALUE / 2;
    /** An initiation of it was forwarded to the partner: its expiry is then a strike (see {@link #reachedAnyone}). */
    private volatile boolean reachedPartner;
    /** Whether the owner thread has counted and struck this candidate's failure (owner only). */
    boolean failureSettled;

    Candidate(String peer, RoamingSlot slot, Endpoint endpoint, int senderIndex, long nowMillis) {
        this(peer, null, slot, endpoint, senderIndex, nowMillis, nowMillis);
    }

    private Candidate(
            String peer,
            String hub,
            RoamingSlot slot,
            Endpoint endpoint,
            int senderIndex,
            long registeredAtMillis,
            long lastInitForwardMillis) {
        this.peer = peer;
        this.hub = hub;
        this.slot = slot;
        this.endpoint = endpoint;
        this.word = new AtomicLong(pack(senderIndex, PENDING));
        this.registeredAtMillis = registeredAtMillis;
        this.lastInitForwardMillis = lastInitForwardMillis;
        this.lastTransportForwardMillis = Long.MIN_VALUE / 2;
    }

    /**
     * SPEC B: an initiation whose MAC1 names hub {@code hub} cannot say which spoke sent it;
     * the candidate waits, unidentified, in the hub's slot ({@code hubSlot}).
     */
    static Candidate unidentified(String hub, RoamingSlot hubSlot, Endpoint endpoint, int senderIndex, long now) {
        return new Candidate(null, hub, hubSlot, endpoint, senderIndex, now, now);
    }

    /**
     * The spoke {@code peer} this unidentified candidate turned out to be, as a pending
     * candidate in the spoke's slot: same source, sender index, registration time (expiry
     * counts from the initiation) and retry limit.
     */
    Candidate identifiedAs(String peer, RoamingSlot spokeSlot) {
        Candidate identified = new Candidate(
                peer, null, spokeSlot, endpoint, senderIndex(), registeredAtMillis, lastInitForwardMillis);
        identified.reachedPartner = true; // the hub answered it
        return identified;
    }

    /** One of its initiations was forwarded to the partner (its endpoint or its candidate). */
    void reachedPartner() {
        if (!reachedPartner) {
            reachedPartner = true;
        }
    }

    /**
     * Whether a failure of this candidate says anything about its source: true once any of its
     * initiations reached the partner, or it was answered or voided. A candidate of a peer
     * whose partner had neither endpoint nor candidate (SPEC E: both waiting to enroll) never
     * reached anyone; its expiry is not a forgery.
     */
    boolean reachedAnyone() {
        return reachedPartner || state() == VOIDED;
    }

    /** True while the candidate waits in a hub's slot for the response that names its spoke. */
    public boolean isUnidentified() {
        return hub != null;
    }

    /** The hub an unidentified candidate's initiation named; null for others. */
    public String hub() {
        return hub;
    }

    private static long pack(int senderIndex, int state) {
        return (Integer.toUnsignedLong(senderIndex) << 8) | state;
    }

    private static int stateOf(long w) {
        return (int) (w & STATE_MASK);
    }

    private static int indexOf(long w) {
        return (int) (w >>> 8);
    }

    private static boolean live(int state) {
        return state == PENDING || state == ANSWERED;
    }

    /** The peer S this candidate claims to be; null while unidentified. */
    public String peer() {
        return peer;
    }

    /** The slot of peer S that holds (or held) this candidate. */
    RoamingSlot slot() {
        return slot;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    public InetSocketAddress address() {
        return endpoint.socketAddress();
    }

    public long registeredAtMillis() {
        return registeredAtMillis;
    }

    public int state() {
        return stateOf(word.get());
    }

    public int senderIndex() {
        return indexOf(word.get());
    }

    public int answerIndex() {
        return answerIndex;
    }

    @Override
    public boolean awaitsPartnerData() {
        int s = state();
        return s == ANSWERED || s == COMMITTING;
    }

    public boolean isAnswered() {
        return state() == ANSWERED;
    }

    public boolean isLive() {
        return live(state());
    }

    /** True when a failure ended it (voided or expired): the owner counts and strikes it. */
    boolean failed() {
        int s = state();
        return s == VOIDED || s == EXPIRED;
    }

    /**
     * A retry of the initiation from the same source: a new handshake, so the stored
     * sender index changes and any answer to the old one no longer counts.
     */
    void refresh(int newSenderIndex) {
        while (true) {
            long w = word.get();
            int s = stateOf(w);
            if (indexOf(w) == newSenderIndex || !(live(s) || s == COMMITTING)) {
                return;
            }
            responder = false; // a new handshake of its own: it is the initiator again
            if (word.compareAndSet(w, pack(newSenderIndex, s == ANSWERED ? PENDING : s))) {
                return;
            }
        }
    }

    /** Rule 8: the partner answered this candidate's handshake with {@code responseSenderIndex}. */
    boolean markAnswered(int receiverIndex, int responseSenderIndex) {
        while (true) {
            long w = word.get();
            if (indexOf(w) != receiverIndex || !live(stateOf(w))) {
                return false;
            }
            // Written before the state that makes it meaningful is published.
            answerIndex = responseSenderIndex;
            reachedPartner = true;
            if (word.compareAndSet(w, pack(receiverIndex, ANSWERED))) {
                return true;
            }
        }
    }

    /**
     * SPEC E: the candidate's own response answered the partner's initiation; its sender index
     * is stored as the answer index, and the partner's transport data to it will commit.
     */
    boolean markResponded(int responseSenderIndex) {
        while (true) {
            long w = word.get();
            if (stateOf(w) != PENDING) {
                return false;
            }
            answerIndex = responseSenderIndex;
            responder = true;
            reachedPartner = true;
            if (word.compareAndSet(w, pack(indexOf(w), ANSWERED))) {
                return true;
            }
        }
    }

    /**
     * The receiver index of the partner's transport data that commits this answered candidate:
     * its sender index when its peer initiated (rule 9), its answer index when it responded (SPEC E).
     */
    public int commitIndex() {
        return responder ? answerIndex : senderIndex();
    }

    /** SPEC E, a candidate standing in for a missing endpoint: at most one initiation a second to it. */
    boolean takeStandInInit(long nowMillis) {
        if (nowMillis - lastStandInInitMillis < 1000) {
            return false;
        }
        lastStandInInitMillis = nowMillis;
        return true;
    }

    /** SPEC E: at most one transport datagram a second to a candidate standing in. */
    boolean takeStandInTransport(long nowMillis) {
        if (nowMillis - lastStandInTransportMillis < 1000) {
            return false;
        }
        lastStandInTransportMillis = nowMillis;
        return true;
    }

    /** At most once per second (rule 3 retries); true when this call may forward. */
    boolean takeInitForward(long nowMillis) {
        if (nowMillis - lastInitForwardMillis < 1000) {
            return false;
        }
        lastInitForwardMillis = nowMillis;
        return true;
    }

    /** At most once per second (rule 3 type 4 from an answered candidate). */
    boolean takeTransportForward(long nowMillis) {
        if (nowMillis - lastTransportForwardMillis < 1000) {
            return false;
        }
        lastTransportForwardMillis = nowMillis;
        return true;
    }

    /** Moves from one of {@code from} to {@code to}; true for the one caller that did it. */
    boolean transition(int to, int... from) {
        while (true) {
            long w = word.get();
            int s = stateOf(w);
            boolean allowed = false;
            for (int f : from) {
                allowed |= s == f;
            }
            if (!allowed) {
                return false;
            }
            if (word.compareAndSet(w, pack(indexOf(w), to))) {
                return true;
            }
        }
    }

    /** The candidate in {@code slot}: roaming is the only writer of slots, so whatever one holds is a Candidate. */
    static Candidate in(RoamingSlot slot) {
        return (Candidate) slot.candidate();
    }

    @Override
    public String toString() {
        return "candidate " + (hub == null ? peer : "(unidentified, hub " + hub + ")") + "@" + endpoint + " state="
                + state();
    }
}
