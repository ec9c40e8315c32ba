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
import org.wgrelay.server.daemon.HostPort;
import org.wgrelay.server.daemon.RelayDaemon;
import org.wgrelay.server.daemon.ServeConfig;
import org.wgrelay.server.wire.WgMessage;
import org.wgrelay.server.xdp.XdpMode;

/**
 * A relay daemon in this JVM: UDP on {@code bind}, control and metrics listeners on
 * loopback, every port chosen by the kernel, and a clock the test drives. Closing it
 * stops the daemon and deletes its directory. Used by the control tests and, through
 * {@link #loopback}, the loopback forwarding tests.
 */
public final class LocalRelay implements AutoCloseable {
    static final long START_MILLIS = 1_700_000_000_000L;

    public final AtomicLong clock = new AtomicLong(START_MILLIS);
    final Path dir;
    final Path rosterPath;
    public final RelayDaemon daemon;

    private LocalRelay(String bind, int workers, String controlHost, String token, boolean trace) throws Exception {
        this(Files.createTempDirectory("wg-relay-it"), bind, workers, controlHost, token, trace, 1);
    }

    private LocalRelay(
            Path dir, String bind, int workers, String controlHost, String token, boolean trace, int maxLinksPerPeer)
            throws Exception {
        this(dir, bind, workers, controlHost, token, trace, maxLinksPerPeer, true);
    }

    private LocalRelay(
            Path dir,
            String bind,
            int workers,
            String controlHost,
            String token,
            boolean trace,
            int maxLinksPerPeer,
            boolean udpGso)
            throws Exception {
        this.dir = dir;
        rosterPath = dir.resolve("wg-roster");
        ServeConfig config = new ServeConfig(
                InetAddress.getByName(bind),
                0,
                workers,
                rosterPath,
                HostPort.parse(controlHost + ":0"),
                token,
                HostPort.parse("127.0.0.1:0"),
                List.of(),
                XdpMode.OFF,
                trace,
                maxLinksPerPeer,
                null,
                false,
                udpGso);
        RelayDaemon d = new RelayDaemon(config, clock::get);
        try {
            d.start();
        } catch (Exception e) {
            deleteDir();
            throw e;
        }
        daemon = d;
    }

    static LocalRelay open() throws Exception {
        return new LocalRelay("127.0.0.1", 2, "127.0.0.1", null, false);
    }

    /** A relay whose mutating verbs need {@code token} (as with --control-token-file). */
    static LocalRelay withToken(String controlHost, String token) throws Exception {
        return new LocalRelay("127.0.0.1", 2, controlHost, token, false);
    }

    /** A relay started with {@code --max-links-per-peer maxLinksPerPeer} (SPEC B). */
    static LocalRelay withHubLinks(int maxLinksPerPeer) throws Exception {
        return new LocalRelay(
                Files.createTempDirectory("wg-relay-it"), "127.0.0.1", 2, "127.0.0.1", null, false, maxLinksPerPeer);
    }

    /** A new relay on this one's roster file and directory, with {@code maxLinksPerPeer}; close this one first. */
    LocalRelay restartedWith(int maxLinksPerPeer) throws Exception {
        return new LocalRelay(dir, "127.0.0.1", 2, "127.0.0.1", null, false, maxLinksPerPeer);
    }

    static LocalRelay boundTo(String bind) throws Exception {
        return new LocalRelay(bind, 2, "127.0.0.1", null, false);
    }

    /** UDP on {@code bind} with {@code workers}, and {@code --trace-forward-hashes} if asked. */
    public static LocalRelay loopback(String bind, int workers, boolean trace) throws Exception {
        return new LocalRelay(bind, workers, "127.0.0.1", null, trace);
    }

    /** One worker on 127.0.0.1, with {@code --udp-gso on} or {@code off}. */
    public static LocalRelay withUdpGso(boolean on) throws Exception {
        return new LocalRelay(
                Files.createTempDirectory("wg-relay-it"), "127.0.0.1", 1, "127.0.0.1", null, false, 1, on);
    }

    RelayClient client() throws IOException {
        return new RelayClient(daemon.controlPort());
    }

    InetSocketAddress udpAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), daemon.udpPort());
    }

    /** The relay's UDP port at {@code host} (one of the addresses it is bound to). */
    public InetSocketAddress udpAddress(String host) throws IOException {
        return new InetSocketAddress(InetAddress.getByName(host), daemon.udpPort());
    }

    /** One {@code wg show} counter. */
    public long show(String key) {
        return ((Number) daemon.status().show().get(key)).longValue();
    }

    byte[] rosterBytes() throws IOException {
        return Files.exists(rosterPath) ? Files.readAllBytes(rosterPath) : null;
    }

    /** The roster file's identity (device, inode): an atomic rewrite replaces it. */
    Object rosterFileKey() throws IOException {
        return Files.exists(rosterPath)
                ? Files.readAttributes(rosterPath, BasicFileAttributes.class).fileKey()
                : null;
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
    public static void await(String what, BooleanSupplier condition) throws InterruptedException {
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

    /** Stops the daemon and keeps its directory, for {@link #restartedWith}. */
    void stopKeepingFiles() {
        daemon.close();
    }

    void deleteDir() throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
