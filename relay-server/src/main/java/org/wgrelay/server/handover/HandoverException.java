package org.wgrelay.server.handover;

/** A handover that cannot go on: the other side broke the protocol, went away or timed out. */
public final class HandoverException extends RuntimeException {
    public HandoverException(String message) {
        super(message);
    }

    public HandoverException(String message, Throwable cause) {
        super(message, cause);
    }
}
