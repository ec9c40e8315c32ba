package org.wgrelay.server.wire;

import io.netty.buffer.ByteBuf;

/**
 * WireGuard message layout, in the words of the WireGuard paper: the four message
 * types, their sizes and the offsets of the fields the relay reads. Every parser in
 * the relay refers to these constants; nothing else spells a size or offset.
 *
 * <p>A datagram is "WireGuard-shaped" when its first four bytes, read as a
 * little-endian uint32, are a known type and its length fits that type. Reading the
 * whole word (not only the first byte) means the three reserved bytes must be zero.
 */
public final class WgMessage {
    public static final int TYPE_HANDSHAKE_INITIATION = 1;
    public static final int TYPE_HANDSHAKE_RESPONSE = 2;
    public static final int TYPE_COOKIE_REPLY = 3;
    public static final int TYPE_TRANSPORT_DATA = 4;

    public static final int HANDSHAKE_INITIATION_LENGTH = 148;
    public static final int HANDSHAKE_RESPONSE_LENGTH = 92;
    public static final int COOKIE_REPLY_LENGTH = 64;
    /** Header (16) plus the 16-byte Poly1305 tag of an empty (keepalive) payload. */
    public static final int TRANSPORT_DATA_MIN_LENGTH = 32;

    /** Initiation and response: sender index at 4..8. */
    public static final int SENDER_INDEX_OFFSET = 4;
    /** Response: receiver index at 8..12. */
    public static final int RESPONSE_RECEIVER_INDEX_OFFSET = 8;
    /** Transport data and cookie reply: receiver index at 4..8. */
    public static final int RECEIVER_INDEX_OFFSET = 4;
    /** MAC1 sits at len-32 .. len-16 of initiations and responses; MAC2 follows it. */
    public static final int MAC1_FROM_END = 32;

    public static final int MAC_LENGTH = 16;

    /** Returned by {@link #shapedType} for a datagram that is not WireGuard-shaped. */
    public static final int NOT_SHAPED = 0;

    private WgMessage() {}

    /**
     * The message type of a WireGuard-shaped datagram, or {@link #NOT_SHAPED}.
     * Reads from the buffer's reader index without moving it.
     */
    public static int shapedType(ByteBuf datagram) {
        int length = datagram.readableBytes();
        if (length < 4) {
            return NOT_SHAPED;
        }
        int type = datagram.getIntLE(datagram.readerIndex());
        switch (type) {
            case TYPE_HANDSHAKE_INITIATION:
                return length == HANDSHAKE_INITIATION_LENGTH ? type : NOT_SHAPED;
            case TYPE_HANDSHAKE_RESPONSE:
                return length == HANDSHAKE_RESPONSE_LENGTH ? type : NOT_SHAPED;
            case TYPE_COOKIE_REPLY:
                return length == COOKIE_REPLY_LENGTH ? type : NOT_SHAPED;
            case TYPE_TRANSPORT_DATA:
                return length >= TRANSPORT_DATA_MIN_LENGTH ? type : NOT_SHAPED;
            default:
                return NOT_SHAPED;
        }
    }

    /** Little-endian uint32 index field at {@code offset} from the reader index, as an int. */
    public static int index(ByteBuf datagram, int offset) {
        return datagram.getIntLE(datagram.readerIndex() + offset);
    }
}
