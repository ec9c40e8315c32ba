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
    /** A request line did not arrive complete in time; the connection is closed. */
    public static final String REQUEST_TIMEOUT = "request_timeout";
    /** The connection carried nothing for too long; it is closed. */
    public static final String IDLE_TIMEOUT = "idle_timeout";
    /** The connection was closed to make room for a newer one at the connection limit. */
    public static final String CONNECTION_LIMIT = "connection_limit";
    /** Something failed inside the relay; the request changed nothing. */
    public static final String INTERNAL = "internal";

    private ErrorCodes() {}
}
