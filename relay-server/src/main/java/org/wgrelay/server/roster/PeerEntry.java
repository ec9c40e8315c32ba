package org.wgrelay.server.roster;

import java.util.Base64;

/**
 * One registered peer as the roster holds it. Immutable; a change makes a new entry.
 *
 * @param name unique name, a roster token (see {@link RosterNames})
 * @param endpoint the peer's committed source endpoint, unique in the roster; null while
 *     the relay has yet to learn it (SPEC E)
 * @param pubkey the stamped WireGuard public key in standard base64, or null
 * @param label free text for operators, or null
 * @param nic the XDP egress NIC the peer is pinned to, or null
 */
public record PeerEntry(String name, Endpoint endpoint, String pubkey, String label, String nic) {

    public PeerEntry withEndpoint(Endpoint newEndpoint) {
        return new PeerEntry(name, newEndpoint, pubkey, label, nic);
    }

    public PeerEntry withPubkey(String newPubkey) {
        return new PeerEntry(name, endpoint, newPubkey, label, nic);
    }

    public PeerEntry withNic(String newNic) {
        return new PeerEntry(name, endpoint, pubkey, label, newNic);
    }

    /** The raw 32-byte key, or null when none is stamped. Allocates: cold path only. */
    public byte[] pubkeyBytes() {
        return pubkey == null ? null : Base64.getDecoder().decode(pubkey);
    }
}
