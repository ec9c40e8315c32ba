package org.wgrelay.server.roaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.roaming.RoamingHarness.ALICE;
import static org.wgrelay.server.roaming.RoamingHarness.ALICE_KEY;
import static org.wgrelay.server.roaming.RoamingHarness.ALICE_NEW;
import static org.wgrelay.server.roaming.RoamingHarness.BOB;
import static org.wgrelay.server.roaming.RoamingHarness.BOB_KEY;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.counters.PeerCounter;
import org.wgrelay.server.counters.RelayCounter;

/**
 * The split of roaming between the workers and the owner thread: a worker decides and
 * forwards at once, and leaves counting, striking, committing to the roster and events to
 * the owner's queue; when that bounded queue refuses a task, the owner's next sweep does the
 * work all the same.
 */
class OwnerHandoffTest {
    private static final int INIT_INDEX = 0x11111111;
    private static final int BOB_INDEX = 0x22222222;

    /** An owner whose tasks wait until the test runs them. */
    private static final class QueuedOwner implements Executor {
        final Queue<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            for (Runnable t; (t = tasks.poll()) != null; ) {
                t.run();
            }
        }
    }

    /** An owner whose queue is always full: every task is refused, as the daemon's drops them. */
    private static final Executor FULL = task -> {};

    private static void aliceRoamsBobAnswersAndBobsDataCommits(RoamingHarness relay) {
        relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
        relay.receive(relay.response(BOB_INDEX, INIT_INDEX, ALICE_KEY), BOB);
        assertEquals(List.of(BOB, ALICE_NEW, ALICE), relay.sent());
        relay.receive(relay.transport(INIT_INDEX), BOB);
        assertEquals(List.of(ALICE_NEW), relay.sent(), "the worker sends the deciding packet to the candidate at once");
    }

    @Test
    void aCommitReachesTheRosterOnlyWhenTheOwnerRunsItButTrafficFollowsTheCandidateAtOnce() throws Exception {
        QueuedOwner owner = new QueuedOwner();
        try (RoamingHarness relay = new RoamingHarness(owner)) {
            aliceRoamsBobAnswersAndBobsDataCommits(relay);
            assertEquals(RoamingHarness.ep(ALICE), relay.endpointOf("alice"), "no roster write on a worker");
            relay.receive(relay.transport(INIT_INDEX), BOB);
            assertEquals(List.of(ALICE_NEW), relay.sent(), "while committing, bob's data goes to the candidate");

            owner.runAll();

            assertEquals(RoamingHarness.ep(ALICE_NEW), relay.endpointOf("alice"));
            assertEquals(1, relay.peerCount("alice", PeerCounter.ENDPOINT_RELEARN));
            assertTrue(relay.events.stream().anyMatch(e -> e.startsWith("state.wg.relearn")), relay.events.toString());
        }
    }

    @Test
    void aVoidedCandidateIsCountedAndStruckByTheOwnerNotTheWorker() throws Exception {
        QueuedOwner owner = new QueuedOwner();
        try (RoamingHarness relay = new RoamingHarness(owner)) {
            relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
            relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE); // the owner of that handshake: voids the copy
            relay.sent();
            assertEquals(0, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED), "nothing counted on the worker");
            assertEquals(0, relay.strikes.totalStrikes(ALICE_NEW.getAddress()));

            owner.runAll();

            assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
            assertEquals(1, relay.strikes.totalStrikes(ALICE_NEW.getAddress()));
            assertNull(relay.engine.candidateOf("alice"));
        }
    }

    @Test
    void whenTheOwnersQueueRefusesEverythingTheSweepStillCommits() throws Exception {
        try (RoamingHarness relay = new RoamingHarness(FULL)) {
            aliceRoamsBobAnswersAndBobsDataCommits(relay);
            assertEquals(RoamingHarness.ep(ALICE), relay.endpointOf("alice"));

            relay.engine.sweep();

            assertEquals(RoamingHarness.ep(ALICE_NEW), relay.endpointOf("alice"), "the sweep finished the commit");
            assertEquals(1, relay.peerCount("alice", PeerCounter.ENDPOINT_RELEARN));
            assertNull(relay.engine.candidateOf("alice"));
            relay.engine.sweep();
            assertEquals(1, relay.peerCount("alice", PeerCounter.ENDPOINT_RELEARN), "and only once");
        }
    }

    @Test
    void whenTheOwnersQueueRefusesEverythingTheSweepStillCountsAndStrikesAFailureOnce() throws Exception {
        try (RoamingHarness relay = new RoamingHarness(FULL)) {
            relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
            relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE);
            relay.sent();

            relay.engine.sweep();
            relay.engine.sweep();

            assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
            assertEquals(1, relay.strikes.totalStrikes(ALICE_NEW.getAddress()));
            assertNull(relay.engine.candidateOf("alice"));
        }
    }

    @Test
    void whenTheOwnersQueueRefusesARegistrationTheSweepIndexesTheCandidateSoItCanExpire() throws Exception {
        try (RoamingHarness relay = new RoamingHarness(FULL)) {
            relay.receive(relay.init(INIT_INDEX, BOB_KEY), ALICE_NEW);
            relay.sent();
            assertEquals(0, relay.engine.liveCandidates(), "not indexed: the registration task was refused");

            relay.engine.sweep();
            assertEquals(1, relay.engine.liveCandidates());
            relay.advance(RoamingEngine.CANDIDATE_TTL_MILLIS);
            relay.engine.sweep();

            assertEquals(1, relay.count(RelayCounter.DROP_RELEARN_UNCONFIRMED));
            assertNull(relay.engine.candidateOf("alice"), "expired");
        }
    }
}
