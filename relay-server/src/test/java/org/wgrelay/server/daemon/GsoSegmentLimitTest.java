package org.wgrelay.server.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.NetworkInterface;
import org.junit.jupiter.api.Test;

class GsoSegmentLimitTest {
    @Test
    void anMtuLeavesRoomForAnIpv6AndAUdpHeader() {
        assertEquals(1452, GsoSegmentLimit.forMtu(1500), "WireGuard's own datagram size on a 1500 MTU");
        assertEquals(1232, GsoSegmentLimit.forMtu(1280));
        assertEquals(0, GsoSegmentLimit.forMtu(40), "an MTU too small for the headers: no grouping");
        assertEquals(0, GsoSegmentLimit.forMtu(Integer.MAX_VALUE), "no interface up: no grouping");
    }

    @Test
    void theLimitHereIsTheSmallestUpInterfacesMtuLessHeaders() throws Exception {
        int smallest = NetworkInterface.networkInterfaces()
                .filter(n -> {
                    try {
                        return n.isUp() && !n.isLoopback() && n.getMTU() > 0;
                    } catch (java.net.SocketException e) {
                        return false;
                    }
                })
                .mapToInt(n -> {
                    try {
                        return n.getMTU();
                    } catch (java.net.SocketException e) {
                        return Integer.MAX_VALUE;
                    }
                })
                .min()
                .orElse(-1);
        int limit = GsoSegmentLimit.fromInterfaces();
        if (smallest > 0) {
            assertEquals(smallest - GsoSegmentLimit.HEADER_BYTES, limit);
        } else {
            assertTrue(limit > 0, "the loopback's MTU, as the only interface up");
        }
    }
}
