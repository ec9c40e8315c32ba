package org.wgrelay.it.noise;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Field layout of the four WireGuard messages (WireGuard paper, section 5.4), kept on the test
 * side on purpose: a relay test built on these offsets checks the relay's own constants instead
 * of sharing them. All integers on the wire are little-endian.
 *
 * <pre>
 * initiation (148): type=1 | reserved(3) | sender(4) | ephemeral(32) | static(32+16) | timestamp(12+16)
 *                   | mac1(16) | mac2(16)
 * response    (92): type=2 | reserved(3) | sender(4) | receiver(4) | ephemeral(32) | empty(0+16) | mac1(16) | mac2(16)
 * cookie      (64): type=3 | reserved(3) | receiver(4) | nonce(24) | cookie(16+16)
 * transport (>=32): type=4 | reserved(3) | receiver(4) | counter(8) | packet(n+16)
 * </pre>
 */
public final class WgLayout {

    public static final int TYPE_INITIATION = 1;
    public static final int TYPE_RESPONSE = 2;
    public static final int TYPE_COOKIE_REPLY = 3;
    public static final int TYPE_TRANSPORT = 4;

    public static final int INITIATION_LENGTH = 148;
    public static final int RESPONSE_LENGTH = 92;
    public static final int COOKIE_REPLY_LENGTH = 64;
    /** A keepalive: header plus the tag of an empty packet. */
    public static final int TRANSPORT_MIN_LENGTH = 32;

    /** Initiation and response: the sender's own index. */
    public static final int SENDER_INDEX = 4;
    /** Response: the initiator's sender index, echoed. */
    public static final int RESPONSE_RECEIVER_INDEX = 8;
    /** Transport and cookie reply: the receiver's index. */
    public static final int RECEIVER_INDEX = 4;

    static final int INITIATION_EPHEMERAL = 8;
    static final int INITIATION_STATIC = 40;
    static final int INITIATION_TIMESTAMP = 88;
    static final int RESPONSE_EPHEMERAL = 12;
    static final int RESPONSE_EMPTY = 44;
    public static final int TRANSPORT_COUNTER = 8;
    public static final int TRANSPORT_HEADER_LENGTH = 16;

    /** MAC1 lies at {@code len-32 .. len-16} of initiations and responses, MAC2 after it. */
    public static final int MAC1_FROM_END = 32;

    public static final int MAC2_FROM_END = 16;

    private WgLayout() {}

    /** The message's 4-byte little-endian type word (reserved bytes included), or -1 when shorter. */
    public static int type(byte[] message) {
        return message.length < 4 ? -1 : int32(message, 0);
    }

    /** Little-endian uint32 at {@code offset}, as an int (indices are opaque 32-bit values). */
    public static int int32(byte[] message, int offset) {
        return ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
    }

    /** Writes a little-endian uint32 at {@code offset}; tests use it to rewrite indices. */
    public static void putInt32(byte[] message, int offset, int value) {
        ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
    }

    /** The 64-bit little-endian counter of a transport message. */
    public static long counter(byte[] message) {
        return ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).getLong(TRANSPORT_COUNTER);
    }

    static void expectShape(byte[] message, int type, int length) {
        boolean lengthFits = type == TYPE_TRANSPORT ? message.length >= length : message.length == length;
        if (!lengthFits || type(message) != type) {
            throw new WgRejectedException(
                    WgRejectedException.Reason.NOT_SHAPED,
                    "expected a type-" + type + " message of " + (type == TYPE_TRANSPORT ? "at least " : "")
                            + length + " bytes, got type word " + type(message) + " and " + message.length
                            + " bytes");
        }
    }
}
