package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.wgrelay.it.xdp.XdpRig.RELAY_PORT;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.wgrelay.it.xdp.UdpAgent.Received;

/** Datagrams through the relay, checked byte for byte at the far end. */
final class Traffic {

    static final Duration ARRIVAL = Duration.ofSeconds(20);

    private Traffic() {}

    /**
     * Sends {@code payloads} from {@code from} to the relay at {@code relayIp} and checks that
     * {@code to} receives exactly them, in order, each from {@code relaySource}:{@link
     * XdpRig#RELAY_PORT}. Datagrams whose hex is in {@code ignore} (probes) are skipped.
     */
    static void relayed(
            UdpAgent from, String relayIp, List<byte[]> payloads, UdpAgent to, String relaySource, Set<String> ignore) {
        from.sendAll(relayIp, RELAY_PORT, payloads);
        List<Received> got = new ArrayList<>();
        while (got.size() < payloads.size()) {
            for (Received r : to.receive(1, ARRIVAL)) {
                if (!ignore.contains(r.hex())) {
                    got.add(r);
                }
            }
        }
        assertEquals(
                payloads.stream().map(HexFormat.of()::formatHex).toList(),
                hexes(got, ignore),
                "payloads at " + to + " (sent by " + from + ")");
        for (Received r : got) {
            assertEquals(relaySource + ":" + RELAY_PORT, r.source(), "source of a datagram at " + to);
        }
    }

    /** The payloads in hex, those in {@code ignore} left out. */
    static List<String> hexes(List<Received> received, Set<String> ignore) {
        return received.stream()
                .map(Received::hex)
                .filter(h -> !ignore.contains(h))
                .toList();
    }
}
