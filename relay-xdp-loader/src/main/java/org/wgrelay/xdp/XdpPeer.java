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
 */
public record XdpPeer(
        String ip, int port, String partnerIp, int partnerPort, int egressIfindex, boolean pass, boolean blockCheck) {

    /** {@code WG_PEER_F_PASS} in {@code bpf/wg_relay_abi.h}. */
    public static final int FLAG_PASS = 0x1;
    /** {@code WG_PEER_F_BLOCK_CHECK} in {@code bpf/wg_relay_abi.h}. */
    public static final int FLAG_BLOCK_CHECK = 0x2;

    /** The entry's {@code flags} field. */
    public int flags() {
        return (pass ? FLAG_PASS : 0) | (blockCheck ? FLAG_BLOCK_CHECK : 0);
    }

    /** The map key in the protocol's words. */
    public String key() {
        return ip + " " + port;
    }
}
