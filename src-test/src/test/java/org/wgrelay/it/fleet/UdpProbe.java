package org.wgrelay.it.fleet;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Measures how long a UDP path is down: sends a numbered datagram every {@code interval-ms} to a
 * {@link UdpEcho} and reports every interruption of the answers. Run as a child JVM in the
 * client's namespace.
 *
 * <p>{@code UdpProbe <address> <port> <interval-ms> <duration-ms>} prints
 * <ul>
 *   <li>{@code answer from=<label>} at the first answer and whenever the answering echo changes
 *       (the virtual IP moved), with {@code gap_ms=<n>} since the previous answer;
 *   <li>{@code resumed gap_ms=<n> from=<label>} whenever answers resume after more than
 *       {@code 5 * interval-ms} without one;
 *   <li>each of these with {@code at_ms=<n>}, the milliseconds since the probe started;
 *   <li>at the end, {@code summary sent=<n> answered=<n> longest_gap_ms=<n>}.
 * </ul>
 * A gap is the time between two consecutive answers: it includes one interval, so it overstates
 * the down time by at most {@code interval-ms}.
 */
public final class UdpProbe {

    private UdpProbe() {}

    public static void main(String[] args) throws Exception {
        InetSocketAddress target = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        long intervalNanos = Long.parseLong(args[2]) * 1_000_000L;
        long start = System.nanoTime();
        long end = start + Long.parseLong(args[3]) * 1_000_000L;
        long sent = 0;
        long answered = 0;
        long lastAnswer = 0;
        long longestGap = 0;
        String lastFrom = null;
        byte[] buffer = new byte[2048];
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(1);
            long next = System.nanoTime();
            while (System.nanoTime() < end) {
                long now = System.nanoTime();
                if (now >= next) {
                    byte[] payload = Long.toString(sent++).getBytes(StandardCharsets.US_ASCII);
                    socket.send(new DatagramPacket(payload, payload.length, target));
                    next += intervalNanos;
                }
                DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(in);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                long at = System.nanoTime();
                answered++;
                String text = new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII);
                String from = text.substring(text.lastIndexOf(' ') + 1);
                long gapMs = lastAnswer == 0 ? 0 : (at - lastAnswer) / 1_000_000L;
                if (lastAnswer != 0) {
                    longestGap = Math.max(longestGap, gapMs);
                }
                if (!from.equals(lastFrom)) {
                    System.out.println(
                            "answer from=" + from + " gap_ms=" + gapMs + " at_ms=" + (at - start) / 1_000_000L);
                } else if (gapMs * 1_000_000L > 5 * intervalNanos) {
                    System.out.println(
                            "resumed gap_ms=" + gapMs + " from=" + from + " at_ms=" + (at - start) / 1_000_000L);
                }
                lastFrom = from;
                lastAnswer = at;
            }
        }
        System.out.println("summary sent=" + sent + " answered=" + answered + " longest_gap_ms=" + longestGap);
    }
}
