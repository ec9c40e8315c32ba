package org.wgrelay.it.netns;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes; the failure says what was awaited. */
public final class Await {

    private static final long POLL_MILLIS = 50;

    private Await() {}

    /**
     * Returns once {@code condition} is true; throws {@link AssertionError} with {@code
     * diagnostics} after {@code timeout}. The condition is evaluated at least once, and once more
     * after the deadline, so a slow condition is never cut short by its own duration.
     */
    public static void until(Duration timeout, String what, BooleanSupplier condition, Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out after " + timeout.toMillis() + " ms waiting for " + what + "\n" + diagnostics.get());
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}
