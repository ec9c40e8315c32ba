package org.wgrelay.it.noise;

import static org.wgrelay.it.noise.WgLayout.RESPONSE_EMPTY;
import static org.wgrelay.it.noise.WgLayout.RESPONSE_EPHEMERAL;
import static org.wgrelay.it.noise.WgLayout.RESPONSE_LENGTH;
import static org.wgrelay.it.noise.WgLayout.RESPONSE_RECEIVER_INDEX;
import static org.wgrelay.it.noise.WgLayout.SENDER_INDEX;
import static org.wgrelay.it.noise.WgLayout.TYPE_RESPONSE;

/**
 * The responder's answer to one accepted initiation: the 92-byte response to send back and the
 * responder's transport session. Made by {@link WgPeer#respond}.
 *
 * <p>The responder's session may open transport data at once, but stock WireGuard sends none on
 * it until the initiator's first transport message arrived (the key-confirmation rule the relay's
 * roaming commit relies on); tests that model a WireGuard responder should keep to that order.
 */
public final class WgResponse {

    private final byte[] message;
    private final WgSession session;
    private final byte[] initiatorPublicKey;
    private final byte[] timestamp;

    private WgResponse(byte[] message, WgSession session, byte[] initiatorPublicKey, byte[] timestamp) {
        this.message = message;
        this.session = session;
        this.initiatorPublicKey = initiatorPublicKey;
        this.timestamp = timestamp;
    }

    /** Builds the response from the responder's state after consuming the initiation. */
    static WgResponse create(
            NoiseState state,
            int senderIndex,
            int initiatorIndex,
            byte[] initiatorEphemeral,
            byte[] initiatorStatic,
            byte[] timestamp) {
        byte[] message = new byte[RESPONSE_LENGTH];
        WgLayout.putInt32(message, 0, TYPE_RESPONSE);
        WgLayout.putInt32(message, SENDER_INDEX, senderIndex);
        WgLayout.putInt32(message, RESPONSE_RECEIVER_INDEX, initiatorIndex);

        WgKeyPair ephemeral = WgKeyPair.generate();
        byte[] ephemeralPublic = ephemeral.publicKey();
        state.mixKey(ephemeralPublic);
        state.mixHash(ephemeralPublic);
        System.arraycopy(ephemeralPublic, 0, message, RESPONSE_EPHEMERAL, 32);
        state.mixKey(ephemeral.agree(initiatorEphemeral));
        state.mixKey(ephemeral.agree(initiatorStatic));
        byte[] key = state.mixPresharedKey(WgCrypto.NO_PRESHARED_KEY);
        byte[] empty = state.encryptAndHash(key, new byte[0]);
        System.arraycopy(empty, 0, message, RESPONSE_EMPTY, empty.length);
        Mac1.stamp(message, initiatorStatic);

        byte[][] keys = state.transportKeys();
        // The initiator sends with the first key and receives with the second; the responder mirrors it.
        WgSession session = new WgSession(false, senderIndex, initiatorIndex, keys[1], keys[0]);
        return new WgResponse(message, session, initiatorStatic, timestamp);
    }

    /** A copy of the 92-byte response, ready to send. */
    public byte[] message() {
        return message.clone();
    }

    /** The responder's transport session. */
    public WgSession session() {
        return session;
    }

    /** The responder's own index (bytes 4..8 of the response). */
    public int senderIndex() {
        return session.localIndex();
    }

    /** The initiator's sender index, echoed at bytes 8..12 of the response. */
    public int receiverIndex() {
        return session.remoteIndex();
    }

    /** The initiator's static public key, decrypted from the initiation. */
    public byte[] initiatorPublicKey() {
        return initiatorPublicKey.clone();
    }

    /** The initiation's decrypted TAI64N timestamp. */
    public byte[] timestamp() {
        return timestamp.clone();
    }
}
