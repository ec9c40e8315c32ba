package org.wgrelay.server.xdp;

import java.net.Inet4Address;
import java.util.HashMap;
import java.util.Map;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.RoamingCandidate;
import org.wgrelay.server.table.RoamingSlot;
import org.wgrelay.server.table.Route;
import org.wgrelay.xdp.XdpNic;
import org.wgrelay.xdp.XdpPeer;
import org.wgrelay.xdp.XdpState;

/**
 * The BPF maps as a pure function of userspace's model: the forwarding table (linked
 * IPv4 peers), the roaming candidates, the blocklist and the attached NICs. The program
 * forwards only what this projects; everything else goes up to userspace, which stays
 * correct on its own.
 */
final class XdpProjection {
    private XdpProjection() {}

    static XdpState project(
            int relayPort, Map<String, XdpNic> nicsByName, ForwardingTable table, Blocklist blocklist, long nowMillis) {
        Map<Integer, XdpNic> nics = new HashMap<>();
        for (XdpNic n : nicsByName.values()) {
            nics.put(n.ifindex(), n);
        }
        Map<String, Long> blocked = new HashMap<>();
        for (Blocklist.Entry e : blocklist.entries(nowMillis)) {
            if (e.ip() instanceof Inet4Address) {
                blocked.put(e.ip().getHostAddress(), Math.max(1, (e.expiresAtMillis() - nowMillis + 999) / 1000));
            }
        }
        Map<String, XdpPeer> peers = new HashMap<>();
        for (Route r : table.routes()) {
            if (r.partner() == null // no link, or a hub: routed by MAC1 and session index in userspace
                    || !r.peer().endpoint().isIpv4()
                    || !r.partner().endpoint().isIpv4()) {
                continue; // unlinked sources are dropped by userspace; IPv6 is not in the program
            }
            Endpoint from = r.peer().endpoint();
            Endpoint to = r.partner().endpoint();
            XdpNic pinned = r.partner().nic() == null
                    ? null
                    : nicsByName.get(r.partner().nic());
            // SPEC rule 9 must see the partner's transport data while a candidate is answered,
            // and the voiding rule the candidate's owner's: both go up for that window.
            boolean pass = answered(r.runtime().roaming())
                    || answered(r.partnerRuntime().roaming());
            XdpPeer p = new XdpPeer(
                    host(from),
                    from.port(),
                    host(to),
                    to.port(),
                    pinned == null ? 0 : pinned.ifindex(),
                    pass,
                    blocked.containsKey(host(from)));
            peers.put(p.key(), p);
        }
        return new XdpState(relayPort, nics, peers, blocked);
    }

    private static boolean answered(RoamingSlot slot) {
        RoamingCandidate c = slot.candidate();
        return c != null && c.awaitsPartnerData();
    }

    private static String host(Endpoint e) {
        return e.address().getHostAddress();
    }
}
