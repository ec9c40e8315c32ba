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
    void anAdoptedAttachBecomesSpecsXdpAdoptedLineAndKeepsItsMaps() {
        AttachResult r = AttachResult.parse(
                "ok attach iface=eth0 ifindex=2 mode=drv driver=veth kernel=6.1.0" + " state=adopted prog_id=4024");
        assertTrue(r.ok() && r.adopted() && r.mapsKept());
        assertEquals("xdp_adopted iface=eth0 prog_id=4024 mode=drv", r.logLine());
        assertEquals(null, r.replacedLine());
    }

    @Test
    void aReplacedAttachIsAttachedAndNamesTheProgramItReplaced() {
        AttachResult kept = AttachResult.parse("ok attach iface=eth0 ifindex=2 mode=skb driver=? kernel=6.1.0"
                + " state=replaced prog_id=12 old_prog_id=9 maps=kept");
        assertEquals("xdp_attached iface=eth0 ifindex=2 mode=skb driver=? kernel=6.1.0", kept.logLine());
        assertEquals("xdp_replaced iface=eth0 old_prog_id=9 prog_id=12 maps=kept", kept.replacedLine());
        assertTrue(kept.mapsKept());
        AttachResult fresh = AttachResult.parse("ok attach iface=eth0 ifindex=2 mode=skb driver=? kernel=6.1.0"
                + " state=replaced prog_id=12 old_prog_id=9 maps=new");
        assertFalse(fresh.mapsKept() || fresh.adopted());
        AttachResult first = AttachResult.parse("ok attach iface=eth0 ifindex=2 mode=skb driver=? kernel=6.1.0"
                + " state=fresh prog_id=3 fallback=drv:Operation not supported");
        assertEquals("fresh", first.state());
        assertEquals("drv:Operation not supported", first.fallback());
        assertFalse(first.mapsKept());
    }

    @Test
    void aDumpParsesIntoTheStateItsCommandsWouldWrite() {
        XdpState s = MapDump.parse(List.of(
                "dump",
                "config 51820 7",
                "nic 3 eth0 10.0.0.1 02:00:00:00:00:01",
                "session 10.5.0.1 5000 4294967294 10.6.0.2 6002 3",
                "peer 10.5.0.1 5000 0.0.0.0 0 0 4 9",
                "peer 10.6.0.2 6002 10.5.0.1 5000 0 10 9",
                "block 192.0.2.9 0",
                "block 192.0.2.10 expired"));
        assertEquals(51820, s.relayPort());
        assertEquals(
                new XdpNic("eth0", 3, "10.0.0.1", "02:00:00:00:00:01"), s.nics().get(3));
        assertEquals(XdpPeer.hub("10.5.0.1", 5000, false, false), s.peers().get("10.5.0.1 5000"));
        assertEquals(
                new XdpPeer("10.6.0.2", 6002, "10.5.0.1", 5000, 0, false, true, false, true),
                s.peers().get("10.6.0.2 6002"));
        assertEquals(
                new XdpSession("10.5.0.1", 5000, 0xfffffffe, "10.6.0.2", 6002, 3),
                s.sessions().get("10.5.0.1 5000 4294967294"));
        assertEquals(java.util.Map.of("192.0.2.9", 0L), s.blocklist(), "an expired entry is not counted as a block");
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
