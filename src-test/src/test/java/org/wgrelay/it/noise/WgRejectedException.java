package org.wgrelay.it.noise;

/**
 * A WireGuard message that a test peer refuses, with the reason a real WireGuard implementation
 * would have for dropping it. Tests assert on {@link #reason()}, not on the message text.
 */
public final class WgRejectedException extends RuntimeException {

    /** Why a message was refused; one value per check, in the order a receiver makes them. */
    public enum Reason {
        /** Wrong length or type word (including non-zero reserved bytes) for the expected message. */
        NOT_SHAPED,
        /** MAC1 does not verify against the receiver's own public key. */
        MAC1_MISMATCH,
        /** A public key (ephemeral or static) that gives an all-zero X25519 secret. */
        BAD_PUBLIC_KEY,
        /** An AEAD tag did not verify: the sender does not hold the keys it claims. */
        DECRYPTION_FAILED,
        /** The initiation's static key is not one of the responder's peers. */
        UNKNOWN_PEER,
        /** The initiation's timestamp is not newer than the last accepted one from that peer. */
        REPLAYED_TIMESTAMP,
        /** A second response to a handshake that already consumed one (or failed consuming one). */
        ALREADY_CONSUMED,
        /** A response or transport message whose receiver index is not ours. */
        INDEX_MISMATCH,
        /** A transport counter that was already received or is behind the replay window. */
        REPLAYED_COUNTER
    }

    private final Reason reason;

    public WgRejectedException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
