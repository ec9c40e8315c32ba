// Load generator: names, endpoints and session indices of the hub benchmark.
package org.wgrelay.loadgen;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A hub and {@code spokes} spokes on one address: the hub at {@code port0},
 * spoke {@code k} at {@code port0 + 1 + k}. With one spoke it is an ordinary
 * pair (one link), the baseline the hub is compared with.
 */
final class HubLayout {
    static final String HUB = "hub";

    final InetAddress ip;
    final int port0;
    final int spokes;

    HubLayout(InetAddress ip, int port0, int spokes) {
        if (spokes < 1 || spokes > SessionIds.MAX_SPOKES) {
            throw new IllegalArgumentException("spokes must be within 1.." + SessionIds.MAX_SPOKES);
        }
        if (port0 < 1 || port0 + spokes > 65535) {
            throw new IllegalArgumentException("ports " + port0 + ".." + (port0 + spokes) + " out of range");
        }
        this.ip = ip;
        this.port0 = port0;
        this.spokes = spokes;
    }

    static String spokeName(int k) {
        return "spoke" + k;
    }

    InetSocketAddress hub() {
        return new InetSocketAddress(ip, port0);
    }

    InetSocketAddress spoke(int k) {
        return new InetSocketAddress(ip, port0 + 1 + k);
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
