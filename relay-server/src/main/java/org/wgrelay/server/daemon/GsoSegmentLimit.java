package org.wgrelay.server.daemon;

import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Enumeration;

/**
 * The largest datagram the relay sends as a segment of a UDP GSO group. The kernel refuses a
 * GSO send whose segments, with their headers, exceed the route's MTU, and the route is not
 * known before the send; so the limit is the smallest MTU of the interfaces that are up (the
 * loopback's only when it is the only one), less an IPv6 and a UDP header. A larger datagram is
 * sent alone, as without GSO.
 */
final class GsoSegmentLimit {
    /** IPv6 (40) and UDP (8) headers: the larger of the two families' overheads. */
    static final int HEADER_BYTES = 48;

    private GsoSegmentLimit() {}

    /**
     * The limit for this network namespace's interfaces now; 0 (no GSO) when none is up or they
     * cannot be listed.
     */
    static int fromInterfaces() {
        int smallest = Integer.MAX_VALUE;
        int loopback = Integer.MAX_VALUE;
        try {
            Enumeration<NetworkInterface> all = NetworkInterface.getNetworkInterfaces();
            while (all != null && all.hasMoreElements()) {
                NetworkInterface nic = all.nextElement();
                if (!nic.isUp() || nic.getMTU() <= 0) {
                    continue;
                }
                if (nic.isLoopback()) {
                    loopback = Math.min(loopback, nic.getMTU());
                } else {
                    smallest = Math.min(smallest, nic.getMTU());
                }
            }
        } catch (SocketException e) {
            return 0;
        }
        return forMtu(smallest != Integer.MAX_VALUE ? smallest : loopback);
    }

    /** The segment limit for an MTU ({@link Integer#MAX_VALUE}: none known, 0). */
    static int forMtu(int mtu) {
        return mtu == Integer.MAX_VALUE ? 0 : Math.max(0, mtu - HEADER_BYTES);
    }
}
