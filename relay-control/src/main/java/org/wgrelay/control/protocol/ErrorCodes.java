package org.wgrelay.control.protocol;

/**
 * The control channel's generic error codes (SPEC "Control channel"). Verb-specific
 * codes such as {@code wg_peer_unknown} come from the verb handlers as strings.
 */
public final class ErrorCodes {
    public static final String MISSING_ARG = "missing_arg";
    public static final String INVALID_ARG = "invalid_arg";
    public static final String UNKNOWN_VERB = "unknown_verb";
    public static final String FORBIDDEN = "forbidden";
    public static final String BAD_REQUEST = "bad_request";
    public static final String FRAME_TOO_LARGE = "frame_too_large";
    /** Something failed inside the relay; the request changed nothing. */
    public static final String INTERNAL = "internal";

    private ErrorCodes() {}
}
