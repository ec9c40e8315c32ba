package org.wgrelay.xdp;

/**
 * One {@code wg_peers} entry as userspace wants it: datagrams from {@code ip:port} go
 * to {@code partnerIp:partnerPort}. IPv4 only (the program passes everything else up).
 *
 * @param egressIfindex the pinned egress NIC, or 0 for wherever the partner's MAC was learned
 * @param pass true to pass this source's transport data to userspace (the partner has an
 *     answered roaming candidate, and rule 9 must see the partner's data)
 */
public record XdpPeer(String ip, int port, String partnerIp, int partnerPort, int egressIfindex, boolean pass) {

    /** The map key in the protocol's words. */
    public String key() {
        return ip + " " + port;
    }
}
