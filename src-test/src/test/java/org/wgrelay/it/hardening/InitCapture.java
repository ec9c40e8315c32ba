package org.wgrelay.it.hardening;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.it.noise.WgLayout;

/**
 * Stands in for a WireGuard peer that is down: binds the peer's own address and port in its
 * namespace, waits for the first handshake initiation the relay forwards there, writes its 148
 * bytes to a file and exits 0 (1 when none arrives in time). The relay forwards byte for byte, so
 * the file holds exactly what the initiator sent: a real initiation that no WireGuard has seen.
 *
 * <p>Run as a child JVM inside a namespace: {@code InitCapture <ip> <port> <out-file> <timeout-ms>}.
 * Prints {@code listening} once bound and {@code captured sender=<hex>} on success.
 */
public final class InitCapture {

    private InitCapture() {}

    public static List<String> command(String ip, int port, Path out, long timeoutMillis) {
        return JavaCommand.of(
                List.of("-Xmx64m", "-XX:TieredStopAtLevel=1"),
                InitCapture.class.getName(),
                ip,
                Integer.toString(port),
                out.toString(),
                Long.toString(timeoutMillis));
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1]));
        Path out = Path.of(args[2]);
        long deadline = System.currentTimeMillis() + Long.parseLong(args[3]);
        try (DatagramSocket socket = new DatagramSocket(bind)) {
            System.out.println("listening on " + bind);
            byte[] buffer = new byte[2048];
            while (true) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    System.out.println("no initiation before the deadline");
                    System.exit(1);
                }
                socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(packet);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                byte[] message = Arrays.copyOf(packet.getData(), packet.getLength());
                if (message.length == WgLayout.INITIATION_LENGTH
                        && WgLayout.type(message) == WgLayout.TYPE_INITIATION) {
                    Files.write(out, message);
                    System.out.printf(
                            "captured sender=%08x from=%s%n",
                            WgLayout.int32(message, WgLayout.SENDER_INDEX), packet.getSocketAddress());
                    System.exit(0);
                }
                System.out.printf(
                        "ignored type=%d len=%d from=%s%n",
                        WgLayout.type(message), message.length, packet.getSocketAddress());
            }
        }
    }
}
