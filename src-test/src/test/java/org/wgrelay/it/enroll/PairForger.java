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
 * A forger that plays both ends of a pair that has no endpoint yet (both peers registered by key
 * only, neither online). It knows the two public keys and no private key, and runs two sockets on
 * one address: {@code as-alice} and {@code as-bob}.
 *
 * <ol>
 *   <li>{@code as-alice} sends noise behind a MAC1 for bob's key: the relay takes it as alice's
 *       candidate.
 *   <li>{@code as-bob} sends noise behind a MAC1 for alice's key: bob's candidate; the relay
 *       passes it on to alice's candidate, {@code as-alice}, and remembers it as bob's initiation.
 *   <li>{@code as-alice} answers it: a type-2-shaped datagram to its sender index, MAC1 for bob's
 *       key. The relay passes it to bob's candidate, {@code as-bob}.
 *   <li>{@code as-bob} sends type-4-shaped noise to that answer's sender index, as bob's WireGuard
 *       would after accepting alice's answer; {@code as-alice} sends type-4-shaped noise to the
 *       initiation's sender index, as alice's would after bob's first data.
 * </ol>
 *
 * No WireGuard saw any of it, so no step proves a private key: the relay must commit neither.
 *
 * <p>Run as a child JVM inside a namespace:
 * {@code PairForger <bind-ip> <alice-port> <bob-port> <relay-ip> <relay-port> <alice-key> <bob-key>}.
 * Prints one line per step ({@code as-alice sent initiation sender=<hex>}, {@code as-alice
 * received initiation sender=<hex>}, ...), every datagram received, and {@code done
 * answered=<true|false>} last. Exits 0.
 */
public final class PairForger {

    private static final int STEP_WAIT_MILLIS = 5_000;
    /** The relay passes a candidate's transport data on at most once a second (SPEC rule 3, E). */
    private static final int TRANSPORT_SPACING_MILLIS = 1_500;

    private static final int TRANSPORTS = 3;
    private static final int TRANSPORT_LENGTH = 64;

    private PairForger() {}

    static List<String> command(
            String bindIp, int alicePort, int bobPort, String relayIp, int relayPort, String aliceKey, String bobKey) {
        return JavaCommand.of(
                List.of("-Xmx64m", "-XX:TieredStopAtLevel=1"),
                PairForger.class.getName(),
                bindIp,
                Integer.toString(alicePort),
                Integer.toString(bobPort),
                relayIp,
                Integer.toString(relayPort),
                aliceKey,
                bobKey);
    }

    public static void main(String[] args) throws Exception {
        InetAddress bindIp = InetAddress.getByName(args[0]);
        InetSocketAddress relay = new InetSocketAddress(InetAddress.getByName(args[3]), Integer.parseInt(args[4]));
        byte[] aliceKey = Base64.getDecoder().decode(args[5]);
        byte[] bobKey = Base64.getDecoder().decode(args[6]);
        SecureRandom random = new SecureRandom();
        try (DatagramSocket asAlice = new DatagramSocket(new InetSocketAddress(bindIp, Integer.parseInt(args[1])));
                DatagramSocket asBob = new DatagramSocket(new InetSocketAddress(bindIp, Integer.parseInt(args[2])))) {
            byte[] aliceInit = forged(random, WgLayout.INITIATION_LENGTH, WgLayout.TYPE_INITIATION, bobKey);
            asAlice.send(new DatagramPacket(aliceInit, aliceInit.length, relay));
            System.out.printf(
                    "as-alice sent initiation sender=%08x%n", WgLayout.int32(aliceInit, WgLayout.SENDER_INDEX));
            // The relay registers a candidate on its control thread; give it that moment before
            // the second initiation must find alice's candidate standing in for her.
            receive("as-alice", asAlice, 500);

            byte[] bobInit = forged(random, WgLayout.INITIATION_LENGTH, WgLayout.TYPE_INITIATION, aliceKey);
            int bobSender = WgLayout.int32(bobInit, WgLayout.SENDER_INDEX);
            asBob.send(new DatagramPacket(bobInit, bobInit.length, relay));
            System.out.printf("as-bob sent initiation sender=%08x%n", bobSender);

            byte[] reached =
                    awaitMessage("as-alice", asAlice, WgLayout.TYPE_INITIATION, WgLayout.SENDER_INDEX, bobSender);
            if (reached == null) {
                System.out.println("done answered=false");
                return;
            }
            System.out.printf("as-alice received initiation sender=%08x%n", bobSender);

            byte[] response = new byte[WgLayout.RESPONSE_LENGTH];
            random.nextBytes(response);
            WgLayout.putInt32(response, 0, WgLayout.TYPE_RESPONSE);
            WgLayout.putInt32(response, WgLayout.RESPONSE_RECEIVER_INDEX, bobSender);
            zeroMac2(response);
            Mac1.stamp(response, bobKey);
            int answer = WgLayout.int32(response, WgLayout.SENDER_INDEX);
            asAlice.send(new DatagramPacket(response, response.length, relay));
            System.out.printf("as-alice sent response sender=%08x receiver=%08x%n", answer, bobSender);

            byte[] answered =
                    awaitMessage("as-bob", asBob, WgLayout.TYPE_RESPONSE, WgLayout.RESPONSE_RECEIVER_INDEX, bobSender);
            System.out.printf("as-bob received response=%b%n", answered != null);

            for (int i = 0; i < TRANSPORTS; i++) {
                send(random, asBob, relay, answer, i);
                System.out.printf("as-bob sent transport receiver=%08x counter=%d%n", answer, i);
                receive("as-bob", asBob, 200);
                send(random, asAlice, relay, bobSender, i);
                System.out.printf("as-alice sent transport receiver=%08x counter=%d%n", bobSender, i);
                receive("as-alice", asAlice, TRANSPORT_SPACING_MILLIS);
            }
            System.out.println("done answered=" + (answered != null));
        }
    }

    private static void send(SecureRandom random, DatagramSocket socket, InetSocketAddress relay, int receiver, int n)
            throws Exception {
        byte[] transport = new byte[TRANSPORT_LENGTH];
        random.nextBytes(transport);
        WgLayout.putInt32(transport, 0, WgLayout.TYPE_TRANSPORT);
        WgLayout.putInt32(transport, WgLayout.RECEIVER_INDEX, receiver);
        Arrays.fill(transport, WgLayout.TRANSPORT_COUNTER, WgLayout.TRANSPORT_HEADER_LENGTH, (byte) 0);
        transport[WgLayout.TRANSPORT_COUNTER] = (byte) n;
        socket.send(new DatagramPacket(transport, transport.length, relay));
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

    private static void zeroMac2(byte[] message) {
        Arrays.fill(message, message.length - WgLayout.MAC2_FROM_END, message.length, (byte) 0);
    }

    /** The first datagram of {@code type} whose index at {@code offset} is {@code index}, within the step's wait. */
    private static byte[] awaitMessage(String who, DatagramSocket socket, int type, int offset, int index)
            throws Exception {
        long deadline = System.currentTimeMillis() + STEP_WAIT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            byte[] message = receive(who, socket, deadline - System.currentTimeMillis());
            if (message != null
                    && WgLayout.type(message) == type
                    && message.length > offset + 4
                    && WgLayout.int32(message, offset) == index) {
                return message;
            }
        }
        return null;
    }

    /** One datagram within {@code waitMillis}, printed; null when none came. */
    private static byte[] receive(String who, DatagramSocket socket, long waitMillis) throws Exception {
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
                "%s received type=%d len=%d from=%s%n",
                who, WgLayout.type(message), message.length, packet.getSocketAddress());
        return message;
    }
}
