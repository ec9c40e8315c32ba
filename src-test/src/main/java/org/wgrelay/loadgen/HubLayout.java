// Load generator: names, endpoints and session indices of the hub benchmark.
package org.wgrelay.loadgen;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A hub at {@code ip:port0} and {@code spokes} spokes: spoke {@code k} at
 * {@code ip:port0 + 1 + k}, or, with a spoke address base, at {@code base + k}
 * on one port (each spoke its own IPv4 address, as spokes behind different
 * NATs have). With one spoke it is an ordinary pair (one link), the baseline the
 * hub is compared with.
 */
final class HubLayout {
    static final String HUB = "hub";

    final InetAddress ip;
    final int port0;
    final int spokes;
    /** First spoke's address when each spoke has its own, else null. */
    final InetSocketAddress spokeBase;

    HubLayout(InetAddress ip, int port0, int spokes) {
        this(ip, port0, spokes, null);
    }

    HubLayout(InetAddress ip, int port0, int spokes, InetSocketAddress spokeBase) {
        if (spokes < 1 || spokes > SessionIds.MAX_SPOKES) {
            throw new IllegalArgumentException("spokes must be within 1.." + SessionIds.MAX_SPOKES);
        }
        if (port0 < 1 || port0 + spokes > 65535) {
            throw new IllegalArgumentException("ports " + port0 + ".." + (port0 + spokes) + " out of range");
        }
        if (spokeBase != null) {
            byte[] a = spokeBase.getAddress().getAddress();
            if (a.length != 4 || (a[3] & 0xff) + spokes > 256 * 256) {
                throw new IllegalArgumentException("spoke addresses: an IPv4 base with room for " + spokes);
            }
        }
        this.ip = ip;
        this.port0 = port0;
        this.spokes = spokes;
        this.spokeBase = spokeBase;
    }

    static String spokeName(int k) {
        return "spoke" + k;
    }

    InetSocketAddress hub() {
        return new InetSocketAddress(ip, port0);
    }

    InetSocketAddress spoke(int k) {
        if (spokeBase == null) {
            return new InetSocketAddress(ip, port0 + 1 + k);
        }
        byte[] a = spokeBase.getAddress().getAddress();
        int v = ((a[0] & 0xff) << 24 | (a[1] & 0xff) << 16 | (a[2] & 0xff) << 8 | (a[3] & 0xff)) + k;
        byte[] b = {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        try {
            return new InetSocketAddress(InetAddress.getByAddress(b), spokeBase.getPort());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }

    String hubEndpoint() {
        return text(hub());
    }

    String spokeEndpoint(int k) {
        return text(spoke(k));
    }

    private static String text(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
