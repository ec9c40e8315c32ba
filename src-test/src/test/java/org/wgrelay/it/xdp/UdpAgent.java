package org.wgrelay.it.xdp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.it.netns.Netns;

/**
 * One UDP socket bound to {@code ip:port} inside a namespace — a registered peer's endpoint
 * without WireGuard. The socket lives in a child JVM ({@link #main}) that this class drives over
 * its stdin and stdout:
 *
 * <pre>
 *   stdin:  send IP PORT HEX        stdout: ready IP:PORT
 *           sync N                          synced N            (every earlier send is done)
 *                                           recv IP:PORT HEX    (one per datagram received)
 * </pre>
 *
 * It exits when its stdin closes. The test side keeps the received datagrams in arrival order.
 */
final class UdpAgent implements AutoCloseable {

    /** A datagram as it arrived: the sender ({@code ip:port}) and the payload. */
    record Received(String source, byte[] payload) {
        String hex() {
            return HexFormat.of().formatHex(payload);
        }
    }

    private static final Duration STARTUP = Duration.ofSeconds(30);
    private static final Duration SYNC = Duration.ofSeconds(20);

    private final String label;
    private final Process process;
    private final OutputStream stdin;
    private final Deque<Received> received = new ArrayDeque<>();
    private final List<String> otherLines = new ArrayList<>();
    private long synced;
    private long syncs;
    private boolean ready;
    private boolean eof;

    private UdpAgent(String label, Process process) {
        this.label = label;
        this.process = process;
        this.stdin = process.getOutputStream();
    }

    /** Starts the agent in {@code ns} and returns once its socket is bound. */
    static UdpAgent start(Netns ns, String ip, int port) {
        List<String> argv = ns.inside(JavaCommand.of(
                List.of("-Xmx32m", "-XX:TieredStopAtLevel=1"), UdpAgent.class.getName(), ip, Integer.toString(port)));
        Process process;
        try {
            process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + argv, e);
        }
        UdpAgent agent = new UdpAgent("udp " + ip + ":" + port + "@" + ns.name(), process);
        Thread reader = new Thread(agent::readOutput, "output-" + agent.label);
        reader.setDaemon(true);
        reader.start();
        try {
            agent.waitFor(() -> agent.ready, STARTUP, "its ready line");
        } catch (RuntimeException e) {
            agent.close();
            throw e;
        }
        return agent;
    }

    private void readOutput() {
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                String[] f = line.split(" ");
                synchronized (this) {
                    if (f[0].equals("recv") && f.length == 3) {
                        received.addLast(new Received(f[1], HexFormat.of().parseHex(f[2])));
                    } else if (f[0].equals("synced") && f.length == 2) {
                        synced = Long.parseLong(f[1]);
                    } else if (f[0].equals("ready")) {
                        ready = true;
                    } else {
                        otherLines.add(line);
                    }
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // the agent died; eof says so
        } finally {
            synchronized (this) {
                eof = true;
                notifyAll();
            }
        }
    }

    /** Sends {@code payload} from this agent's socket to {@code ip:port}. */
    synchronized void send(String ip, int port, byte[] payload) {
        write("send " + ip + " " + port + " " + HexFormat.of().formatHex(payload));
    }

    /** Sends each payload in order, then waits until the agent has sent them all. */
    void sendAll(String ip, int port, List<byte[]> payloads) {
        for (byte[] p : payloads) {
            send(ip, port, p);
        }
        sync();
    }

    /** Returns once every datagram handed to {@link #send} has left the agent's socket. */
    void sync() {
        long n;
        synchronized (this) {
            n = ++syncs;
            write("sync " + n);
        }
        waitFor(() -> synced >= n, SYNC, "synced " + n);
    }

    private void write(String line) {
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(label + " no longer takes commands; output: " + otherLines, e);
        }
    }

    /**
     * Waits for the next {@code n} datagrams and removes them from the queue; fails with what did
     * arrive when fewer come within {@code timeout}.
     */
    List<Received> receive(int n, Duration timeout) {
        waitFor(() -> received.size() >= n, timeout, n + " datagrams (got " + queued() + ")");
        List<Received> out = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < n; i++) {
                out.add(received.removeFirst());
            }
        }
        return out;
    }

    /** Removes and returns whatever has arrived and not been taken yet. */
    synchronized List<Received> drain() {
        List<Received> out = new ArrayList<>(received);
        received.clear();
        return out;
    }

    private synchronized int queued() {
        return received.size();
    }

    private interface Condition {
        boolean holds();
    }

    private synchronized void waitFor(Condition condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (eof) {
                throw new IllegalStateException(
                        label + " exited while waiting for " + what + "; output: " + otherLines);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(label + ": timed out after " + timeout.toMillis()
                        + " ms waiting for " + what + "; other output: " + otherLines
                        + "; queued: " + received.size());
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    /** Closes its stdin (it exits), then makes sure it is gone. */
    @Override
    public void close() {
        try {
            stdin.close();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return label;
    }

    /** The agent itself: {@code UdpAgent IP PORT}, run in a namespace. */
    public static void main(String[] args) throws Exception {
        DatagramSocket socket =
                new DatagramSocket(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])));
        Object out = new Object();
        Thread receiver = new Thread(
                () -> {
                    byte[] buf = new byte[65536];
                    DatagramPacket packet = new DatagramPacket(buf, buf.length);
                    while (true) {
                        try {
                            packet.setLength(buf.length);
                            socket.receive(packet);
                        } catch (IOException e) {
                            return; // closed at exit
                        }
                        String line = "recv " + packet.getAddress().getHostAddress() + ":" + packet.getPort() + " "
                                + HexFormat.of().formatHex(Arrays.copyOf(packet.getData(), packet.getLength()));
                        synchronized (out) {
                            System.out.println(line);
                            System.out.flush();
                        }
                    }
                },
                "receiver");
        receiver.setDaemon(true);
        receiver.start();
        synchronized (out) {
            System.out.println("ready " + args[0] + ":" + args[1]);
            System.out.flush();
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.split(" ");
            if (f[0].equals("send")) {
                byte[] payload = HexFormat.of().parseHex(f[3]);
                socket.send(new DatagramPacket(
                        payload,
                        payload.length,
                        new InetSocketAddress(InetAddress.getByName(f[1]), Integer.parseInt(f[2]))));
            } else if (f[0].equals("sync")) {
                synchronized (out) {
                    System.out.println("synced " + f[1]);
                    System.out.flush();
                }
            }
        }
        socket.close();
    }
}
