package org.wgrelay.it.noise;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * MAC1 of a handshake message (WireGuard paper 5.4.4; SPEC "MAC1"), implemented independently of
 * the relay's {@code org.wgrelay.server.wire.Mac1} so that each can check the other:
 * {@code mac1 = MAC(HASH("mac1----" || responder public key), msg[0 .. len-32])}, stored at
 * {@code msg[len-32 .. len-16]}. For an initiation the "responder" is the peer it is sent to;
 * for a response it is the initiator.
 */
public final class Mac1 {

    private static final byte[] LABEL_MAC1 = "mac1----".getBytes(StandardCharsets.US_ASCII);

    private Mac1() {}

    /** {@code HASH("mac1----" || responderPublicKey)}, the 32-byte key of MAC1. */
    public static byte[] key(byte[] responderPublicKey) {
        return WgCrypto.hash(LABEL_MAC1, responderPublicKey);
    }

    /** The MAC1 that {@code message} should carry when sent to {@code responderPublicKey}. */
    public static byte[] compute(byte[] message, byte[] responderPublicKey) {
        return WgCrypto.mac(key(responderPublicKey), message, coveredLength(message));
    }

    /** True when the MAC1 stored in {@code message} verifies against {@code responderPublicKey}; constant time. */
    public static boolean verifies(byte[] message, byte[] responderPublicKey) {
        int covered = coveredLength(message);
        byte[] stored = Arrays.copyOfRange(message, covered, covered + WgCrypto.MAC_LENGTH);
        return MessageDigest.isEqual(stored, compute(message, responderPublicKey));
    }

    /**
     * Writes a fresh MAC1 for {@code responderPublicKey} into {@code message}, in place. A test that
     * rewrites bytes of a genuine handshake uses this to produce what a forger who knows the public
     * key could send.
     */
    public static void stamp(byte[] message, byte[] responderPublicKey) {
        byte[] mac = compute(message, responderPublicKey);
        System.arraycopy(mac, 0, message, coveredLength(message), mac.length);
    }

    private static int coveredLength(byte[] message) {
        if (message.length < WgLayout.MAC1_FROM_END) {
            throw new IllegalArgumentException("a message with MAC1 is at least 32 bytes, not " + message.length);
        }
        return message.length - WgLayout.MAC1_FROM_END;
    }
}
