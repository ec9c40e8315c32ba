package org.wgrelay.xdp;

/**
 * One {@code wg_peers} entry as userspace wants it: datagrams from {@code ip:port} go
 * to {@code partnerIp:partnerPort}. IPv4 only (the program passes everything else up).
 *
 * @param egressIfindex the pinned egress NIC, or 0 for wherever the partner's MAC was learned
 * @param pass true to pass this source's transport data to userspace (the partner has an
 *     answered roaming candidate, and rule 9 must see the partner's data)
 * @param blockCheck true while {@code ip} is on the blocklist: the program consults
 *     {@code wg_blocklist} for a registered source only when its entry says so, which
 *     saves a hash lookup on every forwarded frame
 * @param hub true for a hub (a peer in two or more links): it has no partner
 *     ({@code 0.0.0.0 0}), its transport data goes where its {@link XdpSession}s say
 * @param partnerHub true when the partner is a hub: the program then looks the route to
 *     it up per frame instead of caching it, so that a hub's new next hop reaches every spoke
 */
public record XdpPeer(
        String ip,
        int port,
        String partnerIp,
        int partnerPort,
        int egressIfindex,
        boolean pass,
        boolean blockCheck,
        boolean hub,
        boolean partnerHub) {

    /** {@code WG_PEER_F_PASS} in {@code bpf/wg_relay_abi.h}. */
    public static final int FLAG_PASS = 0x1;
    /** {@code WG_PEER_F_BLOCK_CHECK} in {@code bpf/wg_relay_abi.h}. */
    public static final int FLAG_BLOCK_CHECK = 0x2;
    /** {@code WG_PEER_F_HUB} in {@code bpf/wg_relay_abi.h}. */
    public static final int FLAG_HUB = 0x4;
    /** {@code WG_PEER_F_PARTNER_HUB} in {@code bpf/wg_relay_abi.h}. */
    public static final int FLAG_PARTNER_HUB = 0x8;
    /** A hub's partner in the protocol: none. */
    public static final String NO_PARTNER_IP = "0.0.0.0";

    public XdpPeer {
        if (hub && (!NO_PARTNER_IP.equals(partnerIp) || partnerPort != 0)) {
            throw new IllegalArgumentException("a hub has no partner: " + partnerIp + " " + partnerPort);
        }
    }

    /** An ordinary linked peer's entry: its partner is a single peer, not a hub. */
    public XdpPeer(
            String ip,
            int port,
            String partnerIp,
            int partnerPort,
            int egressIfindex,
            boolean pass,
            boolean blockCheck) {
        this(ip, port, partnerIp, partnerPort, egressIfindex, pass, blockCheck, false, false);
    }

    /** A hub's entry: no partner and no egress pin (each session carries its owner's). */
    public static XdpPeer hub(String ip, int port, boolean pass, boolean blockCheck) {
        return new XdpPeer(ip, port, NO_PARTNER_IP, 0, 0, pass, blockCheck, true, false);
    }

    /** The entry's {@code flags} field. */
    public int flags() {
        return (pass ? FLAG_PASS : 0)
                | (blockCheck ? FLAG_BLOCK_CHECK : 0)
                | (hub ? FLAG_HUB : 0)
                | (partnerHub ? FLAG_PARTNER_HUB : 0);
    }

    /** The map key in the protocol's words. */
    public String key() {
        return ip + " " + port;
    }
}
