package org.wgrelay.xdp;

/**
 * One {@code wg_sessions} entry as userspace wants it: a hub's transport data and cookie
 * replies from {@code hubIp:hubPort} whose receiver index is {@code receiverIndex} go to
 * {@code ownerIp:ownerPort}, the spoke that chose that index. IPv4 only.
 *
 * @param receiverIndex bytes 4..8 of the message as the little-endian int
 *     {@code ByteBuf.getIntLE(4)} reads them; the protocol carries it unsigned
 * @param egressIfindex the owner's pinned egress NIC, or 0 for wherever its MAC was learned
 */
public record XdpSession(
        String hubIp, int hubPort, int receiverIndex, String ownerIp, int ownerPort, int egressIfindex) {

    /** The map key in the protocol's words: {@code hub_ip hub_port receiver_index}. */
    public String key() {
        return hubIp + " " + hubPort + " " + Integer.toUnsignedString(receiverIndex);
    }
}
