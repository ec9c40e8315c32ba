package org.wgrelay.it.enroll;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.it.noise.Mac1;
import org.wgrelay.it.noise.WgLayout;

/**
 * The forger of an enrollment: knows the partner's public key (public keys are not secret) but
 * no private key. It sends an initiation that is random bytes behind a MAC1 made for the
 * partner's key — enough for the relay to take its address as the missing peer's candidate (SPEC
 * rule 3, E) — waits for the partner's own initiation to reach it through that candidate, and
 * answers it in the peer's place: a type-2-shaped datagram whose receiver index is the
 * initiation's sender index and whose MAC1 is made for the partner's key, as a responder's is.
 * The relay must pass it on (it cannot tell), and the partner's WireGuard must reject it, so the
 * partner never sends the transport data that would commit the forger (SPEC E).
 *
 * <p>Run as a child JVM inside a namespace:
 * {@code ForgedAnswerAttacker <bind-ip> <bind-port> <relay-ip> <relay-port> <partner-key-base64> <wait-ms>}.
 * Prints {@code sent initiation sender=<hex>}, then {@code received initiation sender=<hex>} and
 * {@code sent response sender=<hex> receiver=<hex>} when the partner's initiation came within
 * {@code wait-ms}, every other datagram as {@code received type=...}, and {@code done
 * answered=<true|false>} last, after listening a further two seconds. Exits 0.
 */
public final class ForgedAnswerAttacker {

    /** After its answer the forger keeps listening this long, so a test sees anything that comes back. */
    private static final int LINGER_MILLIS = 2_000;

    private ForgedAnswerAttacker() {}

    static List<String> command(
            String bindIp, int bindPort, String relayIp, int relayPort, String partnerKey, long waitMillis) {
        return JavaCommand.of(
                List.of("-Xmx64m", "-XX:TieredStopAtLevel=1"),
                ForgedAnswerAttacker.class.getName(),
                bindIp,
                Integer.toString(bindPort),
                relayIp,
                Integer.toString(relayPort),
                partnerKey,
                Long.toString(waitMillis));
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1]));
        InetSocketAddress relay = new InetSocketAddress(InetAddress.getByName(args[2]), Integer.parseInt(args[3]));
        byte[] partnerKey = Base64.getDecoder().decode(args[4]);
        long waitMillis = Long.parseLong(args[5]);
        SecureRandom random = new SecureRandom();
        try (DatagramSocket socket = new DatagramSocket(bind)) {
            byte[] initiation = forged(random, WgLayout.INITIATION_LENGTH, WgLayout.TYPE_INITIATION, partnerKey);
            socket.send(new DatagramPacket(initiation, initiation.length, relay));
            System.out.printf(
                    "sent initiation sender=%08x from=%s%n", WgLayout.int32(initiation, WgLayout.SENDER_INDEX), bind);

            Integer partnerSender = null;
            long deadline = System.currentTimeMillis() + waitMillis;
            while (partnerSender == null && System.currentTimeMillis() < deadline) {
                byte[] message = receive(socket, deadline - System.currentTimeMillis());
                if (message != null
                        && message.length == WgLayout.INITIATION_LENGTH
                        && WgLayout.type(message) == WgLayout.TYPE_INITIATION) {
                    partnerSender = WgLayout.int32(message, WgLayout.SENDER_INDEX);
                    System.out.printf("received initiation sender=%08x%n", partnerSender);
                }
            }
            if (partnerSender != null) {
                byte[] response = new byte[WgLayout.RESPONSE_LENGTH];
                random.nextBytes(response);
                WgLayout.putInt32(response, 0, WgLayout.TYPE_RESPONSE);
                WgLayout.putInt32(response, WgLayout.RESPONSE_RECEIVER_INDEX, partnerSender);
                zeroMac2(response);
                Mac1.stamp(response, partnerKey);
                socket.send(new DatagramPacket(response, response.length, relay));
                System.out.printf(
                        "sent response sender=%08x receiver=%08x%n",
                        WgLayout.int32(response, WgLayout.SENDER_INDEX), partnerSender);
                long until = System.currentTimeMillis() + LINGER_MILLIS;
                while (System.currentTimeMillis() < until) {
                    receive(socket, until - System.currentTimeMillis());
                }
            }
            System.out.println("done answered=" + (partnerSender != null));
        }
    }

    /** Random bytes of {@code length} with the type word of {@code type} and a MAC1 for {@code responderKey}. */
    private static byte[] forged(SecureRandom random, int length, int type, byte[] responderKey) {
        byte[] message = new byte[length];
        random.nextBytes(message);
        WgLayout.putInt32(message, 0, type);
        zeroMac2(message);
        Mac1.stamp(message, responderKey);
        return message;
    }

    /** WireGuard sends MAC2 as zeros unless it holds a cookie; a forger does the same. */
    private static void zeroMac2(byte[] message) {
        Arrays.fill(message, message.length - WgLayout.MAC2_FROM_END, message.length, (byte) 0);
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
