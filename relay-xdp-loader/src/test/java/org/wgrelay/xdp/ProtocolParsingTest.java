package org.wgrelay.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProtocolParsingTest {

    @Test
    void anOkAttachAnswerBecomesSpecsXdpAttachedLine() {
        AttachResult r = AttachResult.parse("ok attach iface=eth0 ifindex=2 mode=skb driver=veth kernel=6.1.0-18-amd64"
                + " fallback=drv:Operation not supported");
        assertTrue(r.ok());
        assertEquals("xdp_attached iface=eth0 ifindex=2 mode=skb driver=veth kernel=6.1.0-18-amd64", r.logLine());
        assertEquals("drv:Operation not supported", r.fallback());
        assertEquals(2, r.ifindex());
    }

    @Test
    void anErrAttachAnswerKeepsTheWholeErrnoTextAsTheReason() {
        AttachResult r = AttachResult.parse(
                "err attach iface=nope0 ifindex=0 mode=drv driver=? kernel=6.1.0 reason=No such device");
        assertFalse(r.ok());
        assertEquals(
                "xdp_attach_failed iface=nope0 ifindex=0 mode=drv driver=? kernel=6.1.0 reason=No such device",
                r.logLine());
    }

    @Test
    void aGarbledAnswerIsAFailureWithTheAnswerAsReason() {
        AttachResult r = AttachResult.parse("segfault?");
        assertFalse(r.ok());
        assertTrue(r.logLine().endsWith("reason=segfault?"));
    }

    @Test
    void statsLinesParseIntoTotalsAndPerSourceCounters() {
        XdpStats s = XdpStats.parse(List.of(
                "stats rx=10 fwd=7 pass_no_peer=1 pass_no_mac=2 drop_shape=0 drop_block=0",
                "peerstat 10.1.0.1 4000 5 500 4 400",
                "peerstat 10.2.0.1 5000 2 200 2 200",
                "junk line"));
        assertEquals(10, s.total("rx"));
        assertEquals(7, s.total("fwd"));
        assertEquals(0, s.total("missing"));
        assertEquals(new XdpStats.PeerStat(5, 500, 4, 400), s.peers().get("10.1.0.1 4000"));
    }

    @Test
    void theAbiDumpMatchesTheExpectedLayoutOrNamesEveryDifference() {
        List<String> dump = new java.util.ArrayList<>();
        AbiLayout.EXPECTED.forEach((k, v) -> dump.add(k.endsWith(" sizeof") ? k + " " + v : k + " " + v));
        assertEquals(java.util.Map.of(), AbiLayout.mismatches(AbiLayout.parse(dump)));
        dump.set(0, dump.get(0).replaceAll("\\d+$", "99"));
        assertEquals(1, AbiLayout.mismatches(AbiLayout.parse(dump)).size());
    }
}
