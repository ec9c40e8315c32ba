package org.wgrelay.it.hardening;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.it.noise.WgLayout;

/**
 * The attacker: replays a captured initiation to the relay from its own address, then does what a
 * forger without the initiator's private key can do at best — send type-4-shaped datagrams that
 * name the session the partner may have answered. It cannot produce the transport data that
 * would decrypt, so (SPEC rule 9) its candidate must never commit.
 *
 * <p>Run as a child JVM inside a namespace:
 * {@code ReplayAttacker <bind-ip> <bind-port> <relay-ip> <relay-port> <init-file> <answer-wait-ms> <transports>}.
 * Prints {@code answered sender=<hex> receiver=<hex>} when a handshake response to the replay
 * comes back (the partner answered it), {@code received ...} for any other datagram, and
 * {@code done answered=<true|false>} last. Exits 0.
 */
public final class ReplayAttacker {

    /** The relay forwards an answered candidate's type 4 once a second (rule 3); slack for jitter on a busy host. */
    private static final int TRANSPORT_SPACING_MILLIS = 1_500;

    private static final int TRANSPORT_LENGTH = 64;

    private ReplayAttacker() {}

    public static List<String> command(
            String bindIp,
            int bindPort,
            String relayIp,
            int relayPort,
            Path init,
            long answerWaitMillis,
            int transports) {
        return JavaCommand.of(
                List.of("-Xmx64m", "-XX:TieredStopAtLevel=1"),
                ReplayAttacker.class.getName(),
                bindIp,
                Integer.toString(bindPort),
                relayIp,
                Integer.toString(relayPort),
                init.toString(),
                Long.toString(answerWaitMillis),
                Integer.toString(transports));
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1]));
        InetSocketAddress relay = new InetSocketAddress(InetAddress.getByName(args[2]), Integer.parseInt(args[3]));
        byte[] init = Files.readAllBytes(Path.of(args[4]));
        long answerWait = Long.parseLong(args[5]);
        int transports = Integer.parseInt(args[6]);
        SecureRandom random = new SecureRandom();
        int initSender = WgLayout.int32(init, WgLayout.SENDER_INDEX);
        try (DatagramSocket socket = new DatagramSocket(bind)) {
            socket.send(new DatagramPacket(init, init.length, relay));
            System.out.printf("sent initiation sender=%08x from=%s%n", initSender, bind);

            Integer answerSender = null;
            long deadline = System.currentTimeMillis() + answerWait;
            while (answerSender == null && System.currentTimeMillis() < deadline) {
                byte[] message = receive(socket, deadline - System.currentTimeMillis());
                if (message != null
                        && message.length == WgLayout.RESPONSE_LENGTH
                        && WgLayout.type(message) == WgLayout.TYPE_RESPONSE
                        && WgLayout.int32(message, WgLayout.RESPONSE_RECEIVER_INDEX) == initSender) {
                    answerSender = WgLayout.int32(message, WgLayout.SENDER_INDEX);
                    System.out.printf("answered sender=%08x receiver=%08x%n", answerSender, initSender);
                }
            }

            // Type 4 for the answered session (or any session): header, counter, 48 random bytes.
            int receiver = answerSender != null ? answerSender : random.nextInt();
            for (int i = 0; i < transports; i++) {
                byte[] transport = new byte[TRANSPORT_LENGTH];
                random.nextBytes(transport);
                WgLayout.putInt32(transport, 0, WgLayout.TYPE_TRANSPORT);
                WgLayout.putInt32(transport, WgLayout.RECEIVER_INDEX, receiver);
                Arrays.fill(transport, WgLayout.TRANSPORT_COUNTER, WgLayout.TRANSPORT_HEADER_LENGTH, (byte) 0);
                transport[WgLayout.TRANSPORT_COUNTER] = (byte) i;
                socket.send(new DatagramPacket(transport, transport.length, relay));
                System.out.printf("sent transport receiver=%08x counter=%d%n", receiver, i);
                long until = System.currentTimeMillis() + TRANSPORT_SPACING_MILLIS;
                while (System.currentTimeMillis() < until) {
                    receive(socket, until - System.currentTimeMillis());
                }
            }
            System.out.println("done answered=" + (answerSender != null));
        }
    }

    /** One datagram within {@code waitMillis}, printed; null when none came. */
    private static byte[] receive(DatagramSocket socket, long waitMillis) throws Exception {
        if (waitMillis <= 0) {
            return null;
        }
        socket.setSoTimeout((int) Math.max(1, Math.min(waitMillis, Integer.MAX_VALUE)));
        byte[] buffer = new byte[2048];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
            socket.receive(packet);
        } catch (SocketTimeoutException e) {
            return null;
        }
        byte[] message = Arrays.copyOf(packet.getData(), packet.getLength());
        System.out.printf(
                "received type=%d len=%d from=%s%n", WgLayout.type(message), message.length, packet.getSocketAddress());
        return message;
    }
}
