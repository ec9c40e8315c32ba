package org.wgrelay.server.counters;

/**
 * The relay's aggregate counters, with the names SPEC gives them in {@code wg show}.
 * Ordinals are the counter ids in {@link RelayCounters}; append, never reorder.
 */
public enum RelayCounter {
    RX_PACKETS("rx_packets"),
    FWD_PACKETS("fwd_packets"),
    DROP_UNKNOWN_SRC("drop_unknown_src"),
    DROP_NO_LINK("drop_no_link"),
    DROP_NOT_WG_SHAPED("drop_not_wg_shaped"),
    DROP_HANDSHAKE_PUBKEY_MISMATCH("drop_handshake_pubkey_mismatch"),
    DROP_HANDSHAKE_NO_PUBKEY_MATCH("drop_handshake_no_pubkey_match"),
    DROP_RELEARN_UNCONFIRMED("drop_relearn_unconfirmed"),
    DROP_BLOCKLISTED("drop_blocklisted"),
    /** Not in SPEC's {@code wg show}: sends the kernel refused or that backpressure dropped. */
    TX_ERRORS("tx_errors"),
    /** SPEC section A: initiations from unknown sources over the MAC1 search budget, never searched. */
    DROP_HANDSHAKE_RATE_LIMITED("drop_handshake_rate_limited"),
    /** SPEC section B: a hub's type 2, 3 or 4 whose receiver index names none of its partners. */
    DROP_NO_ROUTE("drop_no_route"),
    /** SPEC section E: a datagram for a peer with neither an endpoint nor a candidate standing in. */
    DROP_NO_ENDPOINT("drop_no_endpoint");

    private final String key;

    RelayCounter(String key) {
        this.key = key;
    }

    /** The name in {@code wg show}. */
    public String key() {
        return key;
    }

    /** True for the drop reasons, whose Prometheus label is the key without {@code drop_}. */
    public boolean isDrop() {
        return key.startsWith("drop_");
    }
}
