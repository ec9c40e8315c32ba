package org.wgrelay.control.server;

import java.time.Duration;

/**
 * How much one control listener holds for its clients, and for how long. Every limit is
 * what keeps a fresh operator's {@code wg show} answered while other clients are slow,
 * idle, many or not reading (docs/security.md, "The control channel"):
 *
 * <ul>
 *   <li>{@code maxConnections}: open connections at most. A connection over the limit is
 *       not refused: it closes the connection whose last complete request (or accept) is
 *       oldest, preferring non-subscribers, with a {@code connection_limit} line. So the
 *       newest client always gets in and the limit bounds memory. Worst case per
 *       connection: a 64 KiB partial line, {@link ControlConnection#MAX_QUEUED_CHARS} of
 *       queued requests and {@code outputHighWaterBytes} plus one response of output.
 *   <li>{@code lineDeadline}: a request line must arrive complete within this time of its
 *       first byte ({@code request_timeout}, then closed) — the answer to slowloris clients.
 *   <li>{@code idleTimeout}: a connection with no bytes either way for this long is closed
 *       ({@code idle_timeout}); subscribers are exempt, they only listen.
 *   <li>{@code outputHighWaterBytes}: unwritten output above which a connection stops being
 *       read and runs no further request (a subscriber over it is dropped at once);
 *   <li>{@code writeStallTimeout}: a connection that stays above the high-water mark this
 *       long is closed without a word (it is not reading one).
 *   <li>{@code readThreads}: threads that parse requests and run read verbs; operator verbs
 *       run one at a time on their own thread, so neither kind waits behind the other.
 * </ul>
 */
public record ControlLimits(
        int maxConnections,
        Duration lineDeadline,
        Duration idleTimeout,
        int outputHighWaterBytes,
        Duration writeStallTimeout,
        int readThreads) {

    /**
     * The relay's limits. 1,024 connections: a busy management host's scripts and dashboards
     * with room to spare, at a worst case of about 0.5 MiB each only when a client works
     * hard to fill every buffer (an idle one holds a few KiB). 10 s for a line: a human
     * pasting into {@code nc} is far faster, a byte-a-second client is gone in 10 s. Five
     * minutes idle: long enough for a script that holds its connection between runs. A
     * client that has not read a single byte of 256 KiB for 30 s is not coming back.
     */
    public static final ControlLimits DEFAULTS = new ControlLimits(
            1024, Duration.ofSeconds(10), Duration.ofMinutes(5), 256 * 1024, Duration.ofSeconds(30), 4);

    public ControlLimits {
        if (maxConnections < 1 || readThreads < 1 || outputHighWaterBytes < 1024) {
            throw new IllegalArgumentException("control limits out of range");
        }
        if (lineDeadline.isNegative()
                || lineDeadline.isZero()
                || idleTimeout.isNegative()
                || idleTimeout.isZero()
                || writeStallTimeout.isNegative()
                || writeStallTimeout.isZero()) {
            throw new IllegalArgumentException("control timeouts must be positive");
        }
    }
}
