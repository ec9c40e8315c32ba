package org.wgrelay.server.xdp;

import java.net.Inet4Address;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.table.RoamingCandidate;
import org.wgrelay.server.table.RoamingSlot;
import org.wgrelay.server.table.Route;
import org.wgrelay.xdp.XdpNic;
import org.wgrelay.xdp.XdpPeer;
import org.wgrelay.xdp.XdpSession;
import org.wgrelay.xdp.XdpState;

/**
 * The BPF maps as a pure function of userspace's model: the forwarding table (linked
 * IPv4 peers, and the live entries of every hub's session index), the roaming candidates,
 * the blocklist and the attached NICs. The program forwards only what this projects;
 * everything else goes up to userspace, which stays correct on its own.
 *
 * <p>Hubs (SPEC B): a hub's entry has no partner and the hub flag, each of its spokes'
 * entries the partner-hub flag, and every live session whose hub and owner are IPv4
 * becomes a {@code wg_sessions} entry. An index that two partners of one hub both hold
 * is left out, so such datagrams go up and userspace's lookup alone decides.
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
            if (!r.linked()
                    || r.peer().endpoint() == null // SPEC E: entries appear once an endpoint is known
                    || !r.peer().endpoint().isIpv4()) {
                continue; // unlinked sources are dropped by userspace; IPv6 is not in the program
            }
            Endpoint from = r.peer().endpoint();
            boolean blockCheck = blocked.containsKey(host(from));
            if (r.isHub()) {
                XdpPeer hub = XdpPeer.hub(host(from), from.port(), hubPasses(r), blockCheck);
                peers.put(hub.key(), hub);
                continue;
            }
            PeerEntry partner = r.partner();
            if (partner.endpoint() == null || !partner.endpoint().isIpv4()) {
                continue; // a partner without an endpoint is reached through its candidate, in userspace
            }
            Endpoint to = partner.endpoint();
            // SPEC rule 9 must see the partner's transport data while a candidate is answered,
            // and the voiding rule the candidate's owner's: both go up for that window.
            boolean pass = answered(r.runtime().roaming())
                    || answered(r.partnerRuntime().roaming());
            Route partnerRoute = table.routeOf(partner.name());
            XdpPeer p = new XdpPeer(
                    host(from),
                    from.port(),
                    host(to),
                    to.port(),
                    pin(nicsByName, partner),
                    pass,
                    blockCheck,
                    false,
                    partnerRoute != null && partnerRoute.isHub());
            peers.put(p.key(), p);
        }
        return new XdpState(relayPort, nics, peers, blocked, sessions(nicsByName, table, nowMillis));
    }

    /**
     * A hub's data goes up while any of its partners has an answered candidate (rule 9:
     * the hub's data to that index may commit it) and while the hub itself has one (the
     * voiding rule watches the hub's committed endpoint).
     */
    private static boolean hubPasses(Route hub) {
        if (answered(hub.runtime().roaming())) {
            return true;
        }
        for (Partner p : hub.partners()) {
            if (answered(p.runtime().roaming())) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, XdpSession> sessions(
            Map<String, XdpNic> nicsByName, ForwardingTable table, long nowMillis) {
        Map<String, XdpSession> sessions = new HashMap<>();
        Set<String> ambiguous = new HashSet<>();
        table.forEachLiveSession(nowMillis, (hub, receiverIndex, owner) -> {
            Endpoint from = hub.peer().endpoint();
            Endpoint to = owner.peer().endpoint();
            if (from == null || to == null || !from.isIpv4() || !to.isIpv4()) {
                return;
            }
            XdpSession s = new XdpSession(
                    host(from), from.port(), receiverIndex, host(to), to.port(), pin(nicsByName, owner.peer()));
            XdpSession other = sessions.putIfAbsent(s.key(), s);
            if (other != null && !other.equals(s)) {
                ambiguous.add(s.key());
            }
        });
        sessions.keySet().removeAll(ambiguous);
        return sessions;
    }

    /** The egress NIC pinned for frames to {@code to}, or 0 for wherever its MAC was learned. */
    private static int pin(Map<String, XdpNic> nicsByName, PeerEntry to) {
        XdpNic pinned = to.nic() == null ? null : nicsByName.get(to.nic());
        return pinned == null ? 0 : pinned.ifindex();
    }

    private static boolean answered(RoamingSlot slot) {
        RoamingCandidate c = slot.candidate();
        return c != null && c.awaitsPartnerData();
    }

    private static String host(Endpoint e) {
        return e.address().getHostAddress();
    }
}
