package org.wgrelay.it.noise;

import static org.wgrelay.it.noise.WgLayout.RESPONSE_EMPTY;
import static org.wgrelay.it.noise.WgLayout.RESPONSE_EPHEMERAL;
import static org.wgrelay.it.noise.WgLayout.RESPONSE_LENGTH;
import static org.wgrelay.it.noise.WgLayout.RESPONSE_RECEIVER_INDEX;
import static org.wgrelay.it.noise.WgLayout.SENDER_INDEX;
import static org.wgrelay.it.noise.WgLayout.TYPE_RESPONSE;

import java.util.Arrays;
import org.wgrelay.it.noise.WgRejectedException.Reason;

/**
 * The initiator's half of one handshake: the initiation it sent ({@link #message()}) and the
 * state needed to consume the answer ({@link #consume}). Made by {@link WgPeer#initiate}.
 */
public final class WgHandshake {

    private final WgKeyPair identity;
    private final byte[] responderPublicKey;
    private final int senderIndex;
    private final WgKeyPair ephemeral;
    /** The state after the initiation; {@link #consume} advances it, so a handshake completes at most once. */
    private final NoiseState stateAfterInitiation;

    private final byte[] message;
    private boolean consumed;

    WgHandshake(
            WgKeyPair identity,
            byte[] responderPublicKey,
            int senderIndex,
            WgKeyPair ephemeral,
            NoiseState stateAfterInitiation,
            byte[] message) {
        this.identity = identity;
        this.responderPublicKey = responderPublicKey;
        this.senderIndex = senderIndex;
        this.ephemeral = ephemeral;
        this.stateAfterInitiation = stateAfterInitiation;
        this.message = message;
    }

    /** A copy of the 148-byte initiation, ready to send. */
    public byte[] message() {
        return message.clone();
    }

    /** The initiator's index (bytes 4..8 of the initiation); the response echoes it as receiver index. */
    public int senderIndex() {
        return senderIndex;
    }

    public byte[] responderPublicKey() {
        return responderPublicKey.clone();
    }

    /**
     * Consumes the responder's 92-byte answer and returns the initiator's transport session.
     * Throws {@link WgRejectedException} for a response stock WireGuard would drop: wrong shape,
     * mac1 not made for this initiator, receiver index not this handshake's, or an AEAD that does
     * not open. A handshake consumes one response; any later one is refused.
     */
    public WgSession consume(byte[] response) {
        WgLayout.expectShape(response, TYPE_RESPONSE, RESPONSE_LENGTH);
        if (!Mac1.verifies(response, identity.publicKey())) {
            throw new WgRejectedException(Reason.MAC1_MISMATCH, "response not addressed to " + identity);
        }
        int receiverIndex = WgLayout.int32(response, RESPONSE_RECEIVER_INDEX);
        if (receiverIndex != senderIndex) {
            throw new WgRejectedException(
                    Reason.INDEX_MISMATCH,
                    String.format(
                            "response receiver index %08x, this handshake's sender index %08x",
                            receiverIndex, senderIndex));
        }
        if (consumed) {
            throw new WgRejectedException(Reason.ALREADY_CONSUMED, "this handshake already consumed a response");
        }
        NoiseState state = stateAfterInitiation;
        byte[] responderEphemeral = Arrays.copyOfRange(response, RESPONSE_EPHEMERAL, RESPONSE_EPHEMERAL + 32);
        state.mixKey(responderEphemeral);
        state.mixHash(responderEphemeral);
        state.mixKey(ephemeral.agree(responderEphemeral));
        state.mixKey(identity.agree(responderEphemeral));
        byte[] key = state.mixPresharedKey(WgCrypto.NO_PRESHARED_KEY);
        // On failure the state is spoiled: like WireGuard, the initiator then needs a new handshake.
        consumed = true;
        state.decryptAndHash(key, response, RESPONSE_EMPTY, 16);

        byte[][] keys = state.transportKeys();
        int responderIndex = WgLayout.int32(response, SENDER_INDEX);
        return new WgSession(true, senderIndex, responderIndex, keys[0], keys[1]);
    }
}
