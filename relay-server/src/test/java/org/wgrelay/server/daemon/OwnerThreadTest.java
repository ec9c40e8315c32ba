package org.wgrelay.server.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The owner thread's queue: bounded, and a full one refuses and counts instead of blocking the caller. */
class OwnerThreadTest {

    @Test
    void aFullQueueRefusesAndCountsTasksWithoutBlockingAndRunsTheRest() throws Exception {
        try (OwnerThread owner = new OwnerThread()) {
            CountDownLatch busy = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            owner.executor().execute(() -> {
                busy.countDown();
                await(release);
            });
            assertTrue(busy.await(10, TimeUnit.SECONDS));
            AtomicInteger ran = new AtomicInteger();
            int offered = OwnerThread.QUEUE_BOUND + 100;
            int thrown = 0;
            for (int i = 0; i < offered; i++) {
                try {
                    owner.executor().execute(ran::incrementAndGet); // returns or throws at once
                } catch (RejectedExecutionException e) {
                    thrown++;
                }
            }
            long refused = owner.rejections();
            assertEquals(thrown, refused, "each refusal is counted once and told to the caller");
            assertTrue(refused >= 100 && refused < offered, "refused " + refused + " of " + offered);

            release.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ran.get() < offered - refused && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(offered - refused, ran.get(), "every accepted task ran");
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
