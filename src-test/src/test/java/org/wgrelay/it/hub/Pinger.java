package org.wgrelay.it.hub;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Pings from one site to another on a thread of its own, one ping at a time with a pause between,
 * until closed; keeps every outcome. A test that claims a tunnel stays up while something else
 * happens (a transfer, another spoke's roam, a replay) runs one for the whole of it and then
 * bounds the longest run of lost pings.
 *
 * <p>A lost ping on a busy host is not by itself a fault (a relay socket buffer full of a TCP
 * transfer drops a datagram as any router would), so the tests bound runs of losses, not single ones.
 */
final class Pinger implements AutoCloseable {

    /** The pause between pings: a pacing interval, not a wait for anything. */
    private static final long PAUSE_MILLIS = 200;

    private static final int ANSWER_SECONDS = 2;

    private final HubAndSpokes fixture;
    private final HubAndSpokes.Site from;
    private final HubAndSpokes.Site to;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Boolean> outcomes = new ArrayList<>();
    /** When each ping of {@link #outcomes} was sent, {@link System#nanoTime} */
    private final List<Long> sentAt = new ArrayList<>();

    private final Thread thread;

    private Pinger(HubAndSpokes fixture, HubAndSpokes.Site from, HubAndSpokes.Site to) {
        this.fixture = fixture;
        this.from = from;
        this.to = to;
        this.thread = new Thread(this::run, "pinger-" + from + "-" + to);
        thread.setDaemon(true);
    }

    /** Starts pinging {@code to} from {@code from} at once. */
    static Pinger start(HubAndSpokes fixture, HubAndSpokes.Site from, HubAndSpokes.Site to) {
        Pinger pinger = new Pinger(fixture, from, to);
        pinger.thread.start();
        return pinger;
    }

    private void run() {
        while (running.get()) {
            long at = System.nanoTime();
            boolean ok = fixture.ping(from, to, ANSWER_SECONDS);
            synchronized (this) {
                outcomes.add(ok);
                sentAt.add(at);
            }
            try {
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Pings sent so far. */
    synchronized int sent() {
        return outcomes.size();
    }

    /** Pings answered so far. */
    synchronized int answered() {
        return (int) outcomes.stream().filter(b -> b).count();
    }

    /** Pings sent between {@code fromNanos} and {@code toNanos} ({@link System#nanoTime}). */
    synchronized int sentBetween(long fromNanos, long toNanos) {
        return (int) sentAt.stream().filter(t -> t >= fromNanos && t <= toNanos).count();
    }

    /** Pings sent between {@code fromNanos} and {@code toNanos} that were answered. */
    synchronized int answeredBetween(long fromNanos, long toNanos) {
        int n = 0;
        for (int i = 0; i < outcomes.size(); i++) {
            if (outcomes.get(i) && sentAt.get(i) >= fromNanos && sentAt.get(i) <= toNanos) {
                n++;
            }
        }
        return n;
    }

    /** The longest run of consecutive lost pings so far. */
    synchronized int longestOutage() {
        int longest = 0;
        int current = 0;
        for (boolean ok : outcomes) {
            current = ok ? 0 : current + 1;
            longest = Math.max(longest, current);
        }
        return longest;
    }

    /** Whether the last ping was answered. */
    synchronized boolean lastAnswered() {
        return !outcomes.isEmpty() && outcomes.get(outcomes.size() - 1);
    }

    /** {@code spoke1 -> hub: 41 of 42 pings answered, longest run of losses 1}. */
    synchronized String summary() {
        return from + " -> " + to + ": " + answered() + " of " + sent() + " pings answered, longest run of losses "
                + longestOutage();
    }

    /** Stops after the ping in flight and waits for it. */
    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
