package org.wgrelay.server.roaming;

import java.net.InetSocketAddress;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.counters.RelayCounter;
import org.wgrelay.server.pipeline.Datagram;
import org.wgrelay.server.pipeline.WorkerState;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.table.RoamingSlot;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.wire.WgMessage;

/**
 * SPEC B, spokes roam: an initiation whose MAC1 names a hub cannot say which spoke sent it,
 * so it waits in the hub's slot, unidentified, until the hub's response names the spoke by
 * its MAC1 (keyed by the initiator's public key) — or until a spoke's own initiation shows
 * it was a copy, or it expires. Worker threads; what follows goes to the owner.
 */
final class UnidentifiedCandidates {
    private static final Logger LOG = LoggerFactory.getLogger(RoamingEngine.class);

    private final ForwardingTableHolder tables;
    private final CandidateFollowUps followUps;
    private final Consumer<Runnable> toOwner;

    UnidentifiedCandidates(ForwardingTableHolder tables, CandidateFollowUps followUps, Consumer<Runnable> toOwner) {
        this.tables = tables;
        this.followUps = followUps;
        this.toOwner = toOwner;
    }

    /**
     * SPEC B: an initiation from an unknown source whose MAC1 names hub {@code hub} says
     * nothing of which spoke sent it. It waits in the hub's slot as an unidentified candidate
     * (one per source endpoint, 64 per hub), retried as rule 3 retries, until the hub's
     * response identifies it ({@link #claim}).
     */
    RelayCounter register(Route hub, Datagram datagram, WorkerState worker) {
        long now = worker.nowMillis();
        InetSocketAddress source = datagram.sender();
        int senderIndex = WgMessage.index(datagram.content(), WgMessage.SENDER_INDEX_OFFSET);
        Candidate known = followUps.bySource(source);
        if (known != null && (known.isLive() || known.state() == Candidate.COMMITTING)) {
            return RelayCounter.DROP_UNKNOWN_SRC; // already some spoke's candidate
        }
        RoamingSlot hubSlot = hub.runtime().roaming();
        Candidate same = unidentifiedFrom(hubSlot, source);
        Candidate current = same;
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
            toOwner.accept(() -> LOG.info("candidate hub={} source={} unidentified", u.hub(), u.endpoint()));
            current = u;
        }
        RelayCounter verdict = StandIn.sendTo(datagram, hub, worker);
        if (verdict == null) {
            current.reachedPartner();
        }
        return verdict;
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
     * SPEC B: a hub's response whose receiver index is an unidentified candidate's sender index
     * answers that candidate, whether or not the session index knows the index too. Its MAC1 is made with the initiator's public key (a responder
     * keys MAC1 with the initiator's static key), so exactly one spoke's key verifies it, and
     * that spoke is who the candidate is: it becomes that spoke's pending candidate, the hub's
     * index learns the candidate's sender index for the spoke, and the response goes on to the
     * spoke, where rule 8 mirrors it to the candidate and marks it answered.
     */
    Partner claim(Datagram response, int receiverIndex, WorkerState worker) {
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
        Candidate existing = Candidate.in(spokeSlot);
        if ((spoke.address() != null && now - spokeSlot.lastRelearnMillis() < RoamingEngine.RELEARN_COOLDOWN_MILLIS)
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
        toOwner.accept(() -> followUps.registered(identified));
        return spoke;
    }

    /**
     * A registered spoke's initiation to its hub with the sender index an unidentified candidate
     * of the hub stored: the candidate was a copy of it (voiding, SPEC B with rule 8).
     */
    void voidCopies(RoamingSlot hubSlot, int senderIndex) {
        for (int i = 0; i < RoamingSlot.MAX_UNIDENTIFIED; i++) {
            Candidate u = (Candidate) hubSlot.unidentifiedAt(i);
            if (u != null
                    && u.senderIndex() == senderIndex
                    && u.transition(Candidate.VOIDED, Candidate.PENDING, Candidate.ANSWERED)) {
                toOwner.accept(() -> followUps.settleFailure(u));
            }
        }
    }
}
