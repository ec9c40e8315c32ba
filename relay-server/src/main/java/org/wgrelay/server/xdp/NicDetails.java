package org.wgrelay.server.xdp;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import org.wgrelay.xdp.XdpNic;

/** What the program needs to know of an attached NIC to send from it: its IPv4 address and MAC. */
final class NicDetails {
    private NicDetails() {}

    /** Reads a NIC's IPv4 address and MAC in the relay's network namespace. */
    static XdpNic describe(String name, int ifindex) throws IOException {
        NetworkInterface nif;
        try {
            nif = NetworkInterface.getByName(name);
        } catch (SocketException e) {
            throw new IOException("cannot read interface " + name + ": " + e.getMessage(), e);
        }
        if (nif == null) {
            throw new IOException("interface " + name + " vanished after the attach");
        }
        String ip = null;
        for (Enumeration<InetAddress> a = nif.getInetAddresses(); a.hasMoreElements(); ) {
            InetAddress addr = a.nextElement();
            if (addr instanceof Inet4Address) {
                ip = addr.getHostAddress();
                break;
            }
        }
        if (ip == null) {
            throw new IOException("interface " + name + " has no IPv4 address for the fast path to send from");
        }
        byte[] mac = nif.getHardwareAddress();
        String macText = mac == null ? readMac(name) : format(mac);
        return new XdpNic(name, ifindex, ip, macText);
    }

    private static String readMac(String name) throws IOException {
        return Files.readString(Path.of("/sys/class/net", name, "address")).strip();
    }

    private static String format(byte[] mac) {
        StringBuilder sb = new StringBuilder();
        for (byte b : mac) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }
}
