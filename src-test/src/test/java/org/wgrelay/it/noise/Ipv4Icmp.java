package org.wgrelay.it.noise;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * ICMP echo packets over IPv4 with correct header and ICMP checksums: the inner packets a test
 * exchanges with a real WireGuard interface through a {@link WgSession}.
 */
public final class Ipv4Icmp {

    public static final int ECHO_REPLY = 0;
    public static final int ECHO_REQUEST = 8;
    private static final int IP_HEADER = 20;
    private static final int ICMP_HEADER = 8;
    private static final int PROTOCOL_ICMP = 1;

    /** A parsed echo request or reply whose checksums verified. */
    public record Echo(
            int type, Inet4Address source, Inet4Address destination, int identifier, int sequence, byte[] payload) {

        /** The reply a host sends to this request: addresses swapped, same identifier, sequence and data. */
        public byte[] reply() {
            return build(ECHO_REPLY, destination, source, identifier, sequence, payload);
        }
    }

    private Ipv4Icmp() {}

    public static byte[] echoRequest(
            Inet4Address source, Inet4Address destination, int identifier, int sequence, byte[] payload) {
        return build(ECHO_REQUEST, source, destination, identifier, sequence, payload);
    }

    static byte[] build(
            int type, Inet4Address source, Inet4Address destination, int identifier, int sequence, byte[] payload) {
        int total = IP_HEADER + ICMP_HEADER + payload.length;
        ByteBuffer packet = ByteBuffer.allocate(total); // network byte order
        packet.put((byte) 0x45)
                .put((byte) 0)
                .putShort((short) total)
                .putShort((short) identifier)
                .putShort((short) 0x4000) // DF, no fragments
                .put((byte) 64)
                .put((byte) PROTOCOL_ICMP)
                .putShort((short) 0)
                .put(source.getAddress())
                .put(destination.getAddress());
        packet.put((byte) type)
                .put((byte) 0)
                .putShort((short) 0)
                .putShort((short) identifier)
                .putShort((short) sequence)
                .put(payload);
        byte[] bytes = packet.array();
        putShort(bytes, 10, checksum(bytes, 0, IP_HEADER));
        putShort(bytes, IP_HEADER + 2, checksum(bytes, IP_HEADER, total - IP_HEADER));
        return bytes;
    }

    /**
     * Parses an IPv4 ICMP echo request or reply, ignoring any padding after the IP total length
     * (WireGuard pads inner packets to a multiple of 16). Throws {@link IllegalArgumentException}
     * for anything else or a wrong checksum.
     */
    public static Echo parse(byte[] packet) {
        if (packet.length < IP_HEADER + ICMP_HEADER || (packet[0] & 0xff) != 0x45) {
            throw new IllegalArgumentException("not an IPv4 packet without options: " + hex(packet));
        }
        int total = unsignedShort(packet, 2);
        if (total > packet.length || total < IP_HEADER + ICMP_HEADER || packet[9] != PROTOCOL_ICMP) {
            throw new IllegalArgumentException("not an ICMP packet: " + hex(packet));
        }
        if (checksum(packet, 0, IP_HEADER) != 0 || checksum(packet, IP_HEADER, total - IP_HEADER) != 0) {
            throw new IllegalArgumentException("bad IP or ICMP checksum: " + hex(packet));
        }
        int type = packet[IP_HEADER] & 0xff;
        if ((type != ECHO_REQUEST && type != ECHO_REPLY) || packet[IP_HEADER + 1] != 0) {
            throw new IllegalArgumentException("not an ICMP echo: type " + type);
        }
        return new Echo(
                type,
                address(packet, 12),
                address(packet, 16),
                unsignedShort(packet, IP_HEADER + 4),
                unsignedShort(packet, IP_HEADER + 6),
                Arrays.copyOfRange(packet, IP_HEADER + ICMP_HEADER, total));
    }

    /** RFC 1071 Internet checksum; 0 over a region whose checksum field is correct. */
    static int checksum(byte[] data, int offset, int length) {
        long sum = 0;
        for (int i = 0; i < length; i += 2) {
            int high = data[offset + i] & 0xff;
            int low = i + 1 < length ? data[offset + i + 1] & 0xff : 0;
            sum += (high << 8) | low;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static void putShort(byte[] bytes, int offset, int value) {
        bytes[offset] = (byte) (value >>> 8);
        bytes[offset + 1] = (byte) value;
    }

    private static int unsignedShort(byte[] bytes, int offset) {
        return ((bytes[offset] & 0xff) << 8) | (bytes[offset + 1] & 0xff);
    }

    private static Inet4Address address(byte[] packet, int offset) {
        try {
            return (Inet4Address) InetAddress.getByAddress(Arrays.copyOfRange(packet, offset, offset + 4));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 48));
    }
}
