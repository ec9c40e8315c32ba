package org.wgrelay.control.protocol;

/**
 * A request the relay answers with {@code "ok": false}: a stable code and one
 * sentence for a human. Thrown by parsing, dispatch and verb handlers; it is the
 * normal way to say no, so it carries no stack trace.
 */
public final class ControlException extends Exception {
    private final String code;

    public ControlException(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
