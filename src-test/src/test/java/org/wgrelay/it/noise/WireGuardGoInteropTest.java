package org.wgrelay.it.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardPeer;

/**
 * The test-side handshake generator against stock WireGuard (wireguard-go): if these messages are
 * good enough for wireguard-go, relay tests built on them exercise the relay with genuine traffic.
 *
 * <pre>
 *   [root namespace: this JVM]                 [wgn namespace]
 *   UDP socket on 10.241.a.b+1 -- veth ------- 10.241.a.b+2   wireguard-go, listen-port 51000
 *                                              wg 10.240.0.1/24
 *     peer "java initiator"  allowed-ips 10.240.0.2/32 (no endpoint: learnt from its initiation)
 *     peer "java responder"  allowed-ips 10.240.0.3/32, endpoint = the JVM's socket
 *     peer "java forger"     allowed-ips 10.240.0.4/32 (rewritten and replayed initiations)
 * </pre>
 *
 * <p>Traffic goes only to the namespace's own veth address. The /30 is picked from the topology's
 * random suffix so that two runs at once do not share it.
 */
class WireGuardGoInteropTest {

    private static final int WG_PORT = 51000;
    private static final String WG_TUNNEL_CIDR = "10.240.0.1/24";
    private static final Duration EXCHANGE = Duration.ofSeconds(45);
    /** WireGuard's REKEY_TIMEOUT: an initiator that heard nothing for this long sends a new initiation. */
    private static final Duration REKEY_TIMEOUT = Duration.ofSeconds(5);

    private static final Path SOCKET_DIR = Path.of("/var/run/wireguard");

    private static Topology topology;
    private static Netns ns;
    private static WireGuardPeer wireguardGo;
    private static String rootVeth;
    private static Inet4Address rootAddress;
    private static Inet4Address nsAddress;

    @BeforeAll
    static void startWireGuardGoInANamespaceReachableOverAVeth() throws IOException {
        Prerequisites.check()
                .root()
                .tun()
                .tools("ip", "wg", "wireguard-go", "ping", "pgrep")
                .namespaces()
                .enforce();
        topology = Topology.create();
        ns = topology.namespace("wgn");

        int subnet = Integer.parseInt(topology.suffix(), 16);
        String prefix = "10.241." + ((subnet >>> 8) & 0xff) + ".";
        int base = (subnet & 0x3f) * 4;
        rootAddress = (Inet4Address) InetAddress.getByName(prefix + (base + 1));
        nsAddress = (Inet4Address) InetAddress.getByName(prefix + (base + 2));
        rootVeth = topology.interfaceName("r");
        String nsVeth = topology.interfaceName("n");
        String ip = Prerequisites.which("ip");
        Command.check(
                Duration.ofSeconds(20),
                List.of(ip, "link", "add", rootVeth, "type", "veth", "peer", "name", nsVeth, "netns", ns.name()));
        // Deleting the namespace destroys the pair too; this also covers a failure before it is deleted.
        topology.adopt(() -> Command.run(Duration.ofSeconds(20), List.of(ip, "link", "del", rootVeth)));
        Command.check(
                Duration.ofSeconds(20),
                List.of(ip, "addr", "add", rootAddress.getHostAddress() + "/30", "dev", rootVeth));
        Command.check(Duration.ofSeconds(20), List.of(ip, "link", "set", rootVeth, "up"));
        ns.ip("addr", "add", nsAddress.getHostAddress() + "/30", "dev", nsVeth);
        ns.ip("link", "set", nsVeth, "up");

        wireguardGo = topology.adopt(
                WireGuardPeer.start(ns, topology.interfaceName("w"), WG_PORT, WG_TUNNEL_CIDR, topology.workDir()));
    }

    @AfterAll
    static void removeEverythingAndCheckNothingIsLeft() {
        if (topology == null) {
            return; // skipped before anything was created
        }
        topology.close();
        assertEquals(List.of(), topology.leftoverNamespaces(), "namespaces left behind (ip netns list)");
        assertEquals(List.of(), topology.leftoverProcesses(), "processes left behind");
        Command.Result pgrep = Command.run(
                Duration.ofSeconds(10),
                List.of(Prerequisites.which("pgrep"), "-af", "wireguard-go.*" + wireguardGoName()));
        assertFalse(pgrep.succeeded(), "wireguard-go still running: " + pgrep.stdout());
        assertFalse(Files.exists(SOCKET_DIR.resolve(wireguardGoName() + ".sock")), "control socket left behind");
        assertFalse(
                Command.run(Duration.ofSeconds(10), List.of(Prerequisites.which("ip"), "link", "show", rootVeth))
                        .succeeded(),
                "veth " + rootVeth + " left behind in the root namespace");
    }

    private static String wireguardGoName() {
        return topology.interfaceName("w");
    }

    /**
     * wg genkey / wg pubkey and {@link WgKeyPair} agree on clamping and encoding, so keys flow both
     * ways between tests and wg's configuration.
     */
    @Test
    void wgPubkeyDerivesTheSamePublicKeyAsWgKeyPair() {
        String wg = Prerequisites.which("wg");
        String privateKey = Command.check(Duration.ofSeconds(20), List.of(wg, "genkey"))
                .stdout()
                .strip();
        String publicKey = Command.check(
                        Duration.ofSeconds(20),
                        List.of(wg, "pubkey"),
                        (privateKey + "\n").getBytes(StandardCharsets.US_ASCII))
                .stdout()
                .strip();

        assertEquals(publicKey, WgKeyPair.fromBase64(privateKey).publicKeyBase64());
        WgKeyPair ours = WgKeyPair.generate();
        assertEquals(
                ours.publicKeyBase64(),
                Command.check(
                                Duration.ofSeconds(20),
                                List.of(wg, "pubkey"),
                                (ours.privateKeyBase64() + "\n").getBytes(StandardCharsets.US_ASCII))
                        .stdout()
                        .strip());
    }

    /**
     * Java initiates: wireguard-go answers the initiation with a response our initiator accepts, and
     * answers an ICMP echo request sealed with the derived keys with an echo reply we can open.
     */
    @Test
    void wireGuardGoAnswersOurInitiationAndOurPing() throws IOException {
        WgPeer java = WgPeer.generate();
        byte[] wgGoKey = WgKeyPair.decodePublicKey(wireguardGo.publicKey());
        wg(
                "set",
                wireguardGo.interfaceName(),
                "peer",
                java.identity().publicKeyBase64(),
                "allowed-ips",
                "10.240.0.2/32");
        Inet4Address javaTunnel = (Inet4Address) InetAddress.getByName("10.240.0.2");
        Inet4Address wgGoTunnel = (Inet4Address) InetAddress.getByName("10.240.0.1");
        InetSocketAddress wgGoEndpoint = new InetSocketAddress(nsAddress, WG_PORT);

        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(rootAddress, 0))) {
            socket.setSoTimeout(250);
            long deadline = System.nanoTime() + EXCHANGE.toNanos();
            WgSession session = null;
            WgHandshake handshake = null;
            long lastInitiation = 0;
            List<String> ignored = new ArrayList<>();
            while (session == null) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "no handshake response from wireguard-go within " + EXCHANGE.toSeconds() + " s; ignored "
                                + ignored + "\n" + wireguardGo.describe());
                if (handshake == null || System.nanoTime() - lastInitiation > REKEY_TIMEOUT.toNanos()) {
                    handshake = java.initiate(wgGoKey);
                    lastInitiation = System.nanoTime();
                    send(socket, handshake.message(), wgGoEndpoint);
                }
                byte[] received = receive(socket);
                if (received != null && WgLayout.type(received) == WgLayout.TYPE_RESPONSE) {
                    assertEquals(WgLayout.RESPONSE_LENGTH, received.length);
                    assertTrue(Mac1.verifies(received, java.publicKey()), "wireguard-go's mac1 is ours to verify");
                    session = handshake.consume(received);
                } else if (received != null) {
                    ignored.add("type " + WgLayout.type(received) + " len " + received.length);
                }
            }
            assertEquals(handshake.senderIndex(), session.localIndex());

            byte[] payload = "genuine wireguard from java".getBytes(StandardCharsets.US_ASCII);
            Ipv4Icmp.Echo reply = null;
            int sequence = 0;
            long lastRequest = 0;
            while (reply == null) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "no echo reply through wireguard-go within " + EXCHANGE.toSeconds() + " s; ignored " + ignored
                                + "\n" + wireguardGo.describe());
                if (sequence == 0
                        || System.nanoTime() - lastRequest
                                > Duration.ofSeconds(2).toNanos()) {
                    sequence++;
                    lastRequest = System.nanoTime();
                    send(
                            socket,
                            session.seal(Ipv4Icmp.echoRequest(javaTunnel, wgGoTunnel, 0x4a56, sequence, payload)),
                            wgGoEndpoint);
                }
                byte[] received = receive(socket);
                if (received == null) {
                    continue;
                }
                if (WgLayout.type(received) != WgLayout.TYPE_TRANSPORT) {
                    ignored.add("type " + WgLayout.type(received) + " len " + received.length);
                    continue;
                }
                byte[] packet = session.open(received);
                if (packet.length == 0) {
                    ignored.add("keepalive");
                    continue;
                }
                reply = Ipv4Icmp.parse(packet);
            }
            assertEquals(Ipv4Icmp.ECHO_REPLY, reply.type());
            assertEquals(wgGoTunnel, reply.source());
            assertEquals(javaTunnel, reply.destination());
            assertEquals(0x4a56, reply.identifier());
            assertArrayEquals(payload, reply.payload());
            System.out.printf(
                    "wireguard-go answered java's initiation and %d echo request(s); ignored %s%n", sequence, ignored);

            // wireguard-go learnt our endpoint from the authenticated initiation.
            String endpoint =
                    wireguardGo.endpointOf(java.identity().publicKeyBase64()).orElse("(none)");
            assertEquals(rootAddress.getHostAddress() + ":" + socket.getLocalPort(), endpoint);
        }
    }

    /**
     * wireguard-go initiates (triggered by a ping inside its namespace): our responder accepts its
     * initiation, and wireguard-go accepts our response and our sealed echo replies, so ping succeeds.
     */
    @Test
    void ourResponderAnswersWireGuardGosInitiationAndItsPing() throws IOException {
        byte[] wgGoKey = WgKeyPair.decodePublicKey(wireguardGo.publicKey());
        WgPeer java = WgPeer.generate().allow(wgGoKey);
        Inet4Address javaTunnel = (Inet4Address) InetAddress.getByName("10.240.0.3");
        Inet4Address wgGoTunnel = (Inet4Address) InetAddress.getByName("10.240.0.1");

        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(rootAddress, 0))) {
            socket.setSoTimeout(250);
            wireguardGo.addPeer(
                    java.identity().publicKeyBase64(),
                    rootAddress.getHostAddress() + ":" + socket.getLocalPort(),
                    javaTunnel.getHostAddress() + "/32");
            Map<Integer, WgSession> sessions = new HashMap<>();
            List<String> ignored = new ArrayList<>();
            int initiations = 0;
            int echoes = 0;
            try (ChildProcess ping = ns.spawn(
                    "ping",
                    List.of(
                            Prerequisites.which("ping"),
                            "-n",
                            "-c",
                            "3",
                            "-i",
                            "0.5",
                            "-W",
                            "10",
                            javaTunnel.getHostAddress()),
                    Map.of())) {
                long deadline = System.nanoTime() + EXCHANGE.toNanos();
                while (ping.isAlive()) {
                    assertTrue(
                            System.nanoTime() < deadline,
                            "ping still running after " + EXCHANGE.toSeconds() + " s; ignored " + ignored + "\n"
                                    + ping.output() + wireguardGo.describe());
                    DatagramPacket datagram = receivePacket(socket);
                    if (datagram == null) {
                        continue;
                    }
                    byte[] received = Arrays.copyOf(datagram.getData(), datagram.getLength());
                    SocketAddress from = datagram.getSocketAddress();
                    int type = WgLayout.type(received);
                    if (type == WgLayout.TYPE_INITIATION) {
                        assertTrue(Mac1.verifies(received, java.publicKey()), "wireguard-go's mac1 for us");
                        WgResponse answer = java.respond(received);
                        assertArrayEquals(wgGoKey, answer.initiatorPublicKey());
                        sessions.put(answer.senderIndex(), answer.session());
                        initiations++;
                        send(socket, answer.message(), from);
                    } else if (type == WgLayout.TYPE_TRANSPORT
                            && sessions.containsKey(WgLayout.int32(received, WgLayout.RECEIVER_INDEX))) {
                        WgSession session = sessions.get(WgLayout.int32(received, WgLayout.RECEIVER_INDEX));
                        byte[] packet = session.open(received);
                        if (packet.length == 0) {
                            ignored.add("keepalive");
                            continue;
                        }
                        Ipv4Icmp.Echo request = Ipv4Icmp.parse(packet);
                        assertEquals(Ipv4Icmp.ECHO_REQUEST, request.type());
                        assertEquals(wgGoTunnel, request.source());
                        assertEquals(javaTunnel, request.destination());
                        echoes++;
                        send(socket, session.seal(request.reply()), from);
                    } else {
                        ignored.add("type " + type + " len " + received.length);
                    }
                }
                OptionalInt exit = ping.awaitExit(Duration.ofSeconds(10));
                assertEquals(
                        OptionalInt.of(0),
                        exit,
                        "ping through our responder failed:\n" + ping.output() + wireguardGo.describe());
                assertTrue(ping.output().contains(" 3 received"), "all 3 echo replies must arrive:\n" + ping.output());
            }
            assertTrue(initiations >= 1, "wireguard-go initiated");
            assertEquals(3, echoes, "echo requests opened by our responder's session; ignored " + ignored);
            System.out.printf(
                    "java answered %d wireguard-go initiation(s) and %d pings; ignored %s%n",
                    initiations, echoes, ignored);
        }
    }

    /**
     * What relay scenarios rely on: the sender index is covered by mac1 only, so wireguard-go
     * answers an initiation whose index was rewritten (and mac1 recomputed) and echoes the new
     * index, which the genuine initiator then does not recognise; and it does not answer an exact
     * replay of an initiation it already answered (its timestamp is not newer).
     */
    @Test
    void wireGuardGoAnswersARewrittenSenderIndexButNotAReplay() throws IOException {
        WgPeer java = WgPeer.generate();
        byte[] wgGoKey = WgKeyPair.decodePublicKey(wireguardGo.publicKey());
        wg(
                "set",
                wireguardGo.interfaceName(),
                "peer",
                java.identity().publicKeyBase64(),
                "allowed-ips",
                "10.240.0.4/32");
        InetSocketAddress wgGoEndpoint = new InetSocketAddress(nsAddress, WG_PORT);

        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(rootAddress, 0))) {
            socket.setSoTimeout(250);
            Map<Integer, WgHandshake> byRewrittenIndex = new HashMap<>();
            Map<Integer, byte[]> forgedByRewrittenIndex = new HashMap<>();
            byte[] response = null;
            long deadline = System.nanoTime() + EXCHANGE.toNanos();
            long lastSent = 0;
            while (response == null) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "no response to a rewritten initiation\n" + wireguardGo.describe());
                // wireguard-go drops initiations closer than 20 ms per peer as a flood: resend a fresh one each second.
                if (System.nanoTime() - lastSent > Duration.ofSeconds(1).toNanos()) {
                    WgHandshake handshake = java.initiate(wgGoKey);
                    byte[] forged = handshake.message();
                    int rewritten = ~handshake.senderIndex();
                    WgLayout.putInt32(forged, WgLayout.SENDER_INDEX, rewritten);
                    Mac1.stamp(forged, wgGoKey);
                    byRewrittenIndex.put(rewritten, handshake);
                    forgedByRewrittenIndex.put(rewritten, forged);
                    lastSent = System.nanoTime();
                    send(socket, forged, wgGoEndpoint);
                }
                byte[] received = receive(socket);
                if (received != null && WgLayout.type(received) == WgLayout.TYPE_RESPONSE) {
                    response = received;
                }
            }
            int echoed = WgLayout.int32(response, WgLayout.RESPONSE_RECEIVER_INDEX);
            assertTrue(
                    byRewrittenIndex.containsKey(echoed),
                    String.format(
                            "receiver index %08x is one of the rewritten ones %s", echoed, byRewrittenIndex.keySet()));
            byte[] answered = response;
            WgRejectedException refused = assertThrows(
                    WgRejectedException.class,
                    () -> byRewrittenIndex.get(echoed).consume(answered));
            assertEquals(WgRejectedException.Reason.INDEX_MISMATCH, refused.reason());

            // A negative needs a window: 3 s is well past wireguard-go's answer time seen above.
            send(socket, forgedByRewrittenIndex.get(echoed), wgGoEndpoint);
            long quietUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < quietUntil) {
                byte[] received = receive(socket);
                assertFalse(
                        received != null
                                && WgLayout.type(received) == WgLayout.TYPE_RESPONSE
                                && WgLayout.int32(received, WgLayout.RESPONSE_RECEIVER_INDEX) == echoed,
                        "wireguard-go answered a replayed initiation");
            }
        }
    }

    private static void wg(String... args) {
        List<String> argv = new ArrayList<>(List.of(Prerequisites.which("wg")));
        argv.addAll(List.of(args));
        ns.exec(Duration.ofSeconds(20), argv.toArray(String[]::new));
    }

    private static void send(DatagramSocket socket, byte[] message, SocketAddress to) throws IOException {
        socket.send(new DatagramPacket(message, message.length, to));
    }

    /** The next datagram's bytes, or null when none arrived within the socket timeout. */
    private static byte[] receive(DatagramSocket socket) throws IOException {
        DatagramPacket packet = receivePacket(socket);
        return packet == null ? null : Arrays.copyOf(packet.getData(), packet.getLength());
    }

    private static DatagramPacket receivePacket(DatagramSocket socket) throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
        try {
            socket.receive(packet);
            return packet;
        } catch (SocketTimeoutException e) {
            return null;
        }
    }
}
