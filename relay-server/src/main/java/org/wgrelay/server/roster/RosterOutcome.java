package org.wgrelay.server.roster;

/**
 * Every distinct answer a roster change can give. The codes are SPEC's control-channel
 * error codes, so the control verbs pass them through unchanged.
 */
public enum RosterOutcome {
    OK("ok"),
    PEER_DUPLICATE("wg_peer_duplicate"),
    ENDPOINT_IN_USE("wg_endpoint_in_use"),
    PEER_UNKNOWN("wg_peer_unknown"),
    INVALID_ARG("invalid_arg"),
    INVALID_PUBKEY("invalid_pubkey"),
    LINK_SELF("wg_link_self"),
    LINK_DUPLICATE("wg_link_duplicate"),
    LINK_LIMIT_EXCEEDED("link_limit_exceeded"),
    LINK_UNKNOWN("wg_link_unknown"),
    /** SPEC B: a hub and all its partners need stamped keys. */
    PUBKEY_REQUIRED("wg_pubkey_required"),
    /** The change was valid but could not be persisted; nothing changed. */
    PERSIST_FAILED("internal"),
    /** SPEC C: the etcd store cannot be reached, so nothing changed; forwarding goes on. */
    STORE_UNAVAILABLE("store_unavailable");

    private final String code;

    RosterOutcome(String code) {
        this.code = code;
    }

    /** SPEC's error code (or {@code ok}). */
    public String code() {
        return code;
    }
}
