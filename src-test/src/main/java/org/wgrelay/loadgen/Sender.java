// Load generator: the send side, flat out or paced, on the event loop.
package org.wgrelay.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sends type-4-shaped datagrams on a set of connected channels that share
 * one event loop. Each tick writes a batch and flushes once, so the epoll
 * transport hands the batch to the kernel in one {@code sendmmsg}.
 *
 * <p>Flat out (rate 0): every tick writes one batch on every writable flow,
 * then schedules the next tick with zero delay. Scheduling (not
 * {@code execute}) matters: Netty runs a re-submitted task again before it
 * polls epoll, for up to a second, which would starve the receive side of
 * the same loop; a scheduled task is picked up only after the next I/O pass.
 *
 * <p>Paced (rate &gt; 0, total over the flows): a batch goes out, on the
 * next flow in turn, as soon as its last slot is due, so the loop wakes once
 * per batch rather than once per datagram; each datagram carries its real
 * send time, so latency is measured from when it left, not from its slot. A
 * sender that wakes late sends at most two batches and gives up older slots
 * (counted as skipped) instead of bursting to catch up: keep the batch small
 * (4) for latency runs. udpblast differs in waking per slot and sending what
 * is due, up to a batch.
 *
 * <p>A flow may carry several flow ids ({@link #Sender(EventLoop, List, int[][], int, int,
 * long, long, boolean)}): its datagrams then take the ids in turn, one per datagram, each with
 * its own sequence. That is a hub's one socket talking to many spokes: the id sits where
 * WireGuard puts the receiver index, so consecutive datagrams of a batch name different
 * sessions.
 *
 * <p>{@code rotate} makes flat out send one batch per tick on the next flow in turn
 * instead of one on every flow, so that many spoke sockets together offer what one
 * socket does.
 *
 * <p>All state is confined to the event loop; {@link #done()} completes there.
 */
final class Sender implements Runnable {
    private final EventLoop loop;
    private final List<Channel> flows;
    /** Per flow, the ids its datagrams take in turn, and each id's next sequence. */
    private final int[][] flowIds;

    private final long[][] sequence;
    private final int[] cursor;
    private final boolean rotate;
    private final int size;
    private final int batch;
    private final long rate;
    private final long durationNanos;
    private final Promise<Void> done;

    private long startNanos;
    private long sent;
    private long skipped;
    /** Ticks that found a flow's outbound buffer full (the kernel pushed back). */
    private long unwritable;

    private int nextFlow;
    private long elapsedNanos;

    Sender(EventLoop loop, List<Channel> flows, int firstFlowId, int size, int batch, long rate, long durationNanos) {
        this(loop, flows, consecutiveIds(flows.size(), firstFlowId), size, batch, rate, durationNanos, false);
    }

    Sender(
            EventLoop loop,
            List<Channel> flows,
            int[][] flowIds,
            int size,
            int batch,
            long rate,
            long durationNanos,
            boolean rotate) {
        if (flowIds.length != flows.size()) {
            throw new IllegalArgumentException("one id list per flow");
        }
        this.loop = loop;
        this.flows = flows;
        this.flowIds = flowIds;
        this.sequence = new long[flows.size()][];
        for (int i = 0; i < flowIds.length; i++) {
            sequence[i] = new long[flowIds[i].length];
        }
        this.cursor = new int[flows.size()];
        this.rotate = rotate;
        this.size = size;
        this.batch = batch;
        this.rate = rate;
        this.durationNanos = durationNanos;
        this.done = loop.newPromise();
    }

    private static int[][] consecutiveIds(int flows, int first) {
        int[][] ids = new int[flows][];
        for (int i = 0; i < flows; i++) {
            ids[i] = new int[] {first + i};
        }
        return ids;
    }

    /** Starts sending; completes {@link #done()} on the loop after the duration. */
    Promise<Void> start() {
        loop.execute(() -> {
            startNanos = System.nanoTime();
            run();
        });
        return done;
    }

    Promise<Void> done() {
        return done;
    }

    long sent() {
        return sent;
    }

    long unwritable() {
        return unwritable;
    }

    /** Paced slots given up because the sender woke more than a batch late. */
    long skipped() {
        return skipped;
    }

    double elapsedSeconds() {
        return elapsedNanos / 1e9;
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        if (now - startNanos >= durationNanos) {
            elapsedNanos = now - startNanos;
            done.setSuccess(null);
            return;
        }
        if (rate == 0) {
            if (rotate) {
                sendBatch(nextFlow, batch, now);
                nextFlow = (nextFlow + 1) % flows.size();
            } else {
                for (int i = 0; i < flows.size(); i++) {
                    sendBatch(i, batch, now);
                }
            }
            loop.schedule(this, 0, TimeUnit.NANOSECONDS);
            return;
        }
        long due = dueBy(now);
        if (due > sent + skipped + 2L * batch) {
            skipped = due - sent - 2L * batch; // woke late: give up the oldest slots
        }
        for (int burst = 0; burst < 2 && due - sent - skipped >= batch; burst++) {
            int f = nextFlow;
            nextFlow = (nextFlow + 1) % flows.size();
            sendBatch(f, batch, now);
        }
        // Wake when the next whole batch is due: one timer wake-up per batch,
        // not per datagram (a wake-up costs tens of microseconds in a VM).
        long nextBurst = startNanos + slotNanos(sent + skipped + batch);
        loop.schedule(this, Math.max(0, nextBurst - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private long dueBy(long now) {
        // (elapsed * rate) overflows a long only after ~100 days at 1 Mpps.
        return (now - startNanos) * rate / 1_000_000_000L;
    }

    private long slotNanos(long packet) {
        return packet * 1_000_000_000L / rate;
    }

    private void sendBatch(int f, int n, long now) {
        Channel ch = flows.get(f);
        if (!ch.isWritable()) {
            unwritable++;
            return;
        }
        int[] ids = flowIds[f];
        long[] seq = sequence[f];
        int c = cursor[f];
        for (int i = 0; i < n; i++) {
            ByteBuf buf = ch.alloc().directBuffer(size, size);
            Payload.write(buf, ids[c], seq[c]++, now, size);
            // The void promise reports a failed write to SinkHandler.exceptionCaught.
            ch.write(buf, ch.voidPromise());
            if (++c == ids.length) {
                c = 0;
            }
        }
        ch.flush();
        cursor[f] = c;
        sent += n;
    }
}
