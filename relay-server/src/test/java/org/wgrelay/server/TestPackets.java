package org.wgrelay.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Random;

/**
 * Datagram payloads for tests. Buffers come from the leak-aware unpooled allocator, so
 * paranoid leak detection tracks them like the transport's own buffers.
 */
public final class TestPackets {
    private TestPackets() {}

    /**
     * A payload of {@code length} bytes whose first four bytes are {@code typeWord} as a
     * little-endian uint32 (truncated when shorter than four) and whose rest is
     * pseudo-random but fixed by {@code seed}.
     */
    public static byte[] bytes(int typeWord, int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        for (int i = 0; i < Math.min(4, length); i++) {
            b[i] = (byte) (typeWord >>> (8 * i));
        }
        return b;
    }

    public static ByteBuf datagram(int typeWord, int length, long seed) {
        byte[] b = bytes(typeWord, length, seed);
        ByteBuf buf = Unpooled.buffer(Math.max(1, length));
        buf.writeBytes(b);
        return buf;
    }

    public static ByteBuf datagram(int typeWord, int length) {
        return datagram(typeWord, length, 31L * typeWord + length);
    }

    /**
     * Writes a valid MAC1 for {@code responderPubkeyBase64} into a handshake datagram
     * (SPEC "MAC1"), so rule 5 lets it through; returns the same buffer.
     */
    public static ByteBuf withMac1(ByteBuf handshake, String responderPubkeyBase64) {
        byte[] key = org.wgrelay.server.wire.Mac1.keyFor(
                java.util.Base64.getDecoder().decode(responderPubkeyBase64));
        int len = handshake.readableBytes();
        byte[] covered = new byte[len - 32];
        handshake.getBytes(handshake.readerIndex(), covered);
        handshake.setBytes(
                handshake.readerIndex() + len - 32, org.wgrelay.server.wire.Mac1.compute(key, covered, covered.length));
        return handshake;
    }

    /** The shape SPEC rule 2 gives a type word and length: the type, or 0 when unshaped. */
    public static int expectedShape(int typeWord, int length) {
        switch (typeWord) {
            case 1:
                return length == 148 ? 1 : 0;
            case 2:
                return length == 92 ? 2 : 0;
            case 3:
                return length == 64 ? 3 : 0;
            case 4:
                return length >= 32 ? 4 : 0;
            default:
                return 0;
        }
    }

    /** The length of a shaped message of each type (transport data: its minimum). */
    public static int shapedLength(int type) {
        switch (type) {
            case 1:
                return 148;
            case 2:
                return 92;
            case 3:
                return 64;
            case 4:
                return 32;
            default:
                throw new IllegalArgumentException("type " + type);
        }
    }
}
