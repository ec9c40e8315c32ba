package org.wgrelay.it.fleet;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A UDP echo that appends its own label to every datagram it returns, run as a child JVM in a
 * namespace: the stand-in for a relay when the failover rig is proven without one, and the far
 * end of the tunnel's down-time probe.
 *
 * <p>{@code UdpEcho <bind-address> <port> <label>}; prints {@code listening <address>:<port>}
 * once bound (the address may be one the host does not have yet, with {@code
 * ip_nonlocal_bind}).
 */
public final class UdpEcho {

    private UdpEcho() {}

    public static void main(String[] args) throws Exception {
        InetSocketAddress local = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        byte[] label = (" " + args[2]).getBytes(StandardCharsets.US_ASCII);
        try (DatagramSocket socket = new DatagramSocket(local)) {
            System.out.println("listening " + args[0] + ":" + args[1]);
            byte[] buffer = new byte[2048];
            DatagramPacket in = new DatagramPacket(buffer, buffer.length);
            while (true) {
                in.setLength(buffer.length - label.length);
                socket.receive(in);
                System.arraycopy(label, 0, buffer, in.getLength(), label.length);
                socket.send(new DatagramPacket(buffer, in.getLength() + label.length, in.getSocketAddress()));
            }
        }
    }
}
