package org.wgrelay.server.roaming;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.table.RoamingCandidate;
import org.wgrelay.server.table.RoamingSlot;

/**
 * A source endpoint that claims to be peer S at a new address (SPEC rule 3): registered
 * by a type-1 whose MAC1 names S's partner, answered when the partner's type-2 answers
 * its sender index (rule 8), committed only by the partner's own transport data on that
 * session (rule 9), and otherwise voided or expired — a failed candidate, one strike.
 *
 * <p>Shared by the workers: the candidate's packets and the partner's can land on
 * different event loops. Fields the forward path reads are volatile; state changes are
 * compare-and-set on {@link #state}, so exactly one thread wins each transition and
 * counts it.
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

    private final String peer;
    private final RoamingSlot slot;
    private final Endpoint endpoint;
    private final long registeredAtMillis;
    private final AtomicInteger state = new AtomicInteger(PENDING);
    private volatile int senderIndex;
    private volatile int answerIndex;
    /** Rate limits of rule 3: retries and type-4 forwards, each at most once per second. */
    private volatile long lastInitForwardMillis;
    private volatile long lastTransportForwardMillis;

    Candidate(String peer, RoamingSlot slot, Endpoint endpoint, int senderIndex, long nowMillis) {
        this.peer = peer;
        this.slot = slot;
        this.endpoint = endpoint;
        this.senderIndex = senderIndex;
        this.registeredAtMillis = nowMillis;
        this.lastInitForwardMillis = nowMillis;
        this.lastTransportForwardMillis = Long.MIN_VALUE / 2;
    }

    /** The peer S this candidate claims to be. */
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
        return state.get();
    }

    public int senderIndex() {
        return senderIndex;
    }

    public int answerIndex() {
        return answerIndex;
    }

    @Override
    public boolean awaitsPartnerData() {
        int s = state.get();
        return s == ANSWERED || s == COMMITTING;
    }

    public boolean isAnswered() {
        return state.get() == ANSWERED;
    }

    public boolean isLive() {
        int s = state.get();
        return s == PENDING || s == ANSWERED;
    }

    /**
     * A retry of the initiation from the same source: a new handshake, so the stored
     * sender index changes and any answer to the old one no longer counts.
     */
    synchronized void refresh(int newSenderIndex) {
        if (senderIndex != newSenderIndex) {
            senderIndex = newSenderIndex;
            state.compareAndSet(ANSWERED, PENDING);
        }
    }

    /** Rule 8: the partner answered this candidate's handshake with {@code responseSenderIndex}. */
    synchronized boolean markAnswered(int receiverIndex, int responseSenderIndex) {
        if (receiverIndex != senderIndex || !isLive()) {
            return false;
        }
        answerIndex = responseSenderIndex;
        state.set(ANSWERED);
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
        for (int f : from) {
            if (state.compareAndSet(f, to)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "candidate " + peer + "@" + endpoint + " state=" + state.get();
    }
}
