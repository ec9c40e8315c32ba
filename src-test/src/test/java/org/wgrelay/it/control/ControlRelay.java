package org.wgrelay.it.control;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.wgrelay.server.server.HostPort;
import org.wgrelay.server.server.RelayDaemon;
import org.wgrelay.server.server.ServeConfig;
import org.wgrelay.server.server.XdpMode;
import org.wgrelay.server.wire.WgMessage;

/**
 * A relay daemon in this JVM with its control and metrics listeners on loopback,
 * every port chosen by the kernel, and a clock the test drives. Closing it stops the
 * daemon and deletes its directory.
 */
final class ControlRelay implements AutoCloseable {
    static final long START_MILLIS = 1_700_000_000_000L;

    final AtomicLong clock = new AtomicLong(START_MILLIS);
    final Path dir;
    final Path rosterPath;
    final RelayDaemon daemon;

    private ControlRelay(String bind, String controlHost, String token) throws Exception {
        dir = Files.createTempDirectory("wg-relay-control-it");
        rosterPath = dir.resolve("wg-roster");
        ServeConfig config = new ServeConfig(InetAddress.getByName(bind), 0, 2, rosterPath,
                HostPort.parse(controlHost + ":0"), token, HostPort.parse("127.0.0.1:0"), List.of(), XdpMode.OFF,
                false);
        RelayDaemon d = new RelayDaemon(config, clock::get);
        try {
            d.start();
        } catch (Exception e) {
            deleteDir();
            throw e;
        }
        daemon = d;
    }

    static ControlRelay open() throws Exception {
        return new ControlRelay("127.0.0.1", "127.0.0.1", null);
    }

    /** A relay whose mutating verbs need {@code token} (as with --control-token-file). */
    static ControlRelay withToken(String controlHost, String token) throws Exception {
        return new ControlRelay("127.0.0.1", controlHost, token);
    }

    static ControlRelay boundTo(String bind) throws Exception {
        return new ControlRelay(bind, "127.0.0.1", null);
    }

    RelayClient client() throws IOException {
        return new RelayClient(daemon.controlPort());
    }

    InetSocketAddress udpAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), daemon.udpPort());
    }

    byte[] rosterBytes() throws IOException {
        return Files.exists(rosterPath) ? Files.readAllBytes(rosterPath) : null;
    }

    /** The roster file's identity (device, inode): an atomic rewrite replaces it. */
    Object rosterFileKey() throws IOException {
        return Files.exists(rosterPath) ? Files.readAttributes(rosterPath, BasicFileAttributes.class).fileKey() : null;
    }

    List<String> dirListing() throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ---- UDP helpers ---------------------------------------------------------------------

    static DatagramSocket udpSocket(String ip) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(ip), 0));
        s.setSoTimeout(5000);
        return s;
    }

    static String endpointOf(DatagramSocket s) {
        return s.getLocalAddress().getHostAddress() + ":" + s.getLocalPort();
    }

    void send(DatagramSocket from, byte[] payload) throws IOException {
        from.send(new DatagramPacket(payload, payload.length, udpAddress()));
    }

    static byte[] receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
        s.receive(p);
        return java.util.Arrays.copyOf(p.getData(), p.getLength());
    }

    static byte[] shaped(int type, int length, Random random) {
        byte[] b = new byte[length];
        random.nextBytes(b);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type);
        return b;
    }

    static byte[] transport(int length, Random random) {
        return shaped(WgMessage.TYPE_TRANSPORT_DATA, length, random);
    }

    static byte[] initiation(Random random) {
        return shaped(WgMessage.TYPE_HANDSHAKE_INITIATION, WgMessage.HANDSHAKE_INITIATION_LENGTH, random);
    }

    /** Waits until {@code condition} holds, failing with {@code what} after a deadline. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Override
    public void close() throws IOException {
        daemon.close();
        deleteDir();
    }

    private void deleteDir() throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
