// Soak: WireGuard-shaped datagrams as a peer, a forger or a flooder sends them.
package org.wgrelay.soak;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ThreadLocalRandom;
import org.wgrelay.server.wire.Mac1;
import org.wgrelay.server.wire.WgMessage;

/**
 * The four message shapes of SPEC rule 2 with random bodies; initiations and responses
 * carry a valid MAC1 for the key given (the relay checks nothing else of them).
 */
final class Datagrams {
    private Datagrams() {}

    /** A type 1 with {@code senderIndex}, MAC1 under {@code mac1Key} (null: a random MAC1). */
    static byte[] initiation(int senderIndex, byte[] mac1Key) {
        byte[] b = body(WgMessage.TYPE_HANDSHAKE_INITIATION, WgMessage.HANDSHAKE_INITIATION_LENGTH);
        le(b, WgMessage.SENDER_INDEX_OFFSET, senderIndex);
        return withMac1(b, mac1Key);
    }

    /** A type 2 with sender and receiver index, MAC1 under {@code mac1Key}. */
    static byte[] response(int senderIndex, int receiverIndex, byte[] mac1Key) {
        byte[] b = body(WgMessage.TYPE_HANDSHAKE_RESPONSE, WgMessage.HANDSHAKE_RESPONSE_LENGTH);
        le(b, WgMessage.SENDER_INDEX_OFFSET, senderIndex);
        le(b, WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET, receiverIndex);
        return withMac1(b, mac1Key);
    }

    /** A type 4 of {@code length} bytes to {@code receiverIndex}. */
    static byte[] transport(int receiverIndex, int length) {
        byte[] b = body(WgMessage.TYPE_TRANSPORT_DATA, length);
        le(b, WgMessage.RECEIVER_INDEX_OFFSET, receiverIndex);
        return b;
    }

    static byte[] cookie(int receiverIndex) {
        byte[] b = body(WgMessage.TYPE_COOKIE_REPLY, WgMessage.COOKIE_REPLY_LENGTH);
        le(b, WgMessage.RECEIVER_INDEX_OFFSET, receiverIndex);
        return b;
    }

    /** Not WireGuard-shaped: a type word of 5..255 or a wrong length. */
    static byte[] junk() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        byte[] b = new byte[1 + r.nextInt(200)];
        r.nextBytes(b);
        if (b.length >= 4) {
            le(b, 0, 5 + r.nextInt(250));
        }
        return b;
    }

    static int type(byte[] b, int length) {
        return length < 4
                ? 0
                : ByteBuffer.wrap(b, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    static int index(byte[] b, int offset) {
        return ByteBuffer.wrap(b, offset, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static byte[] withMac1(byte[] b, byte[] mac1Key) {
        int at = b.length - WgMessage.MAC1_FROM_END;
        if (mac1Key != null) {
            System.arraycopy(Mac1.compute(mac1Key, b, at), 0, b, at, WgMessage.MAC_LENGTH);
        }
        // MAC2 zero: no cookie was ever asked for
        java.util.Arrays.fill(b, at + WgMessage.MAC_LENGTH, b.length, (byte) 0);
        return b;
    }

    private static byte[] body(int type, int length) {
        byte[] b = new byte[length];
        ThreadLocalRandom.current().nextBytes(b);
        le(b, 0, type);
        return b;
    }

    private static void le(byte[] b, int offset, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, v);
    }
}
