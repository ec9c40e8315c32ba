package org.wgrelay.server.counters;

/** Per-peer counters, named as in SPEC's {@code wg peer list}. Append, never reorder. */
public enum PeerCounter {
    RX_PACKETS("rx_packets"),
    RX_BYTES("rx_bytes"),
    FWD_PACKETS("fwd_packets"),
    FWD_BYTES("fwd_bytes"),
    DROP_NO_LINK("drop_no_link"),
    DROP_PUBKEY_MISMATCH("drop_pubkey_mismatch"),
    ENDPOINT_RELEARN("endpoint_relearn"),
    /** Epoch milliseconds of the last shaped datagram from the peer's endpoint; maximum, not sum. */
    LAST_SEEN_MILLIS("last_seen"),
    /** SPEC section B: the hub's datagrams whose receiver index named none of its partners. */
    DROP_NO_ROUTE("drop_no_route"),
    /** SPEC section E: datagrams for this peer dropped because it had no endpoint and no candidate. */
    DROP_NO_ENDPOINT("drop_no_endpoint");

    private final String key;

    PeerCounter(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }
}
