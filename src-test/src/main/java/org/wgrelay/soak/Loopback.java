// Soak: loopback source addresses, so that one host can look like many peers and attackers.
package org.wgrelay.soak;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * Linux answers for all of 127.0.0.0/8 on {@code lo}, so a socket can be bound to any of
 * those addresses without configuration: each load takes its own /16 (or wider), so that
 * the relay's per-source-IP state (strikes, blocklist, budgets) of one never touches
 * another's, nor the legit flows on 127.0.0.1.
 */
final class Loopback {
    private Loopback() {}

    /** 127.{second}.{n / 254 % 256}.{n % 254 + 1}: never a .0 or .255 host byte. */
    static Inet4Address address(int second, long n) {
        byte[] a = {127, (byte) second, (byte) (n / 254 % 256), (byte) (n % 254 + 1)};
        try {
            return (Inet4Address) InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Sends {@code datagrams} to {@code to} from a fresh socket on {@code from}, then closes it. */
    static void sendFrom(InetAddress from, InetSocketAddress to, byte[]... datagrams) throws IOException {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(from, 0));
            for (byte[] d : datagrams) {
                ch.send(ByteBuffer.wrap(d), to);
            }
        }
    }
}
