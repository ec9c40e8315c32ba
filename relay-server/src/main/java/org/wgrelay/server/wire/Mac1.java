package org.wgrelay.server.wire;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.bouncycastle.crypto.digests.Blake2sDigest;

/**
 * WireGuard's MAC1 (SPEC "MAC1"): {@code mac1_key = BLAKE2s-256("mac1----" || responder
 * public key)}, {@code mac1 = BLAKE2s-128(key = mac1_key, msg[0 .. len-32])}, stored at
 * {@code msg[len-32 .. len-16]}.
 *
 * <p>The key is derived once, when a public key is stamped ({@link #keyFor}); checking a
 * message costs one keyed BLAKE2s over at most 116 bytes. Comparison is constant-time.
 * Threat: MAC1 proves the sender knew the responder's public key, so a forger who does
 * not know it cannot get handshakes through, and one that does is identified by it.
 */
public final class Mac1 {
    private static final byte[] LABEL_MAC1 = "mac1----".getBytes(StandardCharsets.US_ASCII);
    public static final int KEY_LENGTH = 32;

    /** Scratch for the message bytes; one instance per thread (per worker). */
    private final byte[] scratch = new byte[WgMessage.HANDSHAKE_INITIATION_LENGTH];

    private final byte[] computed = new byte[WgMessage.MAC_LENGTH];
    private final byte[] presented = new byte[WgMessage.MAC_LENGTH];

    /** The MAC1 key for a responder's 32-byte public key. Cold path. */
    public static byte[] keyFor(byte[] responderPublicKey) {
        if (responderPublicKey == null || responderPublicKey.length != 32) {
            throw new IllegalArgumentException("a WireGuard public key is 32 bytes");
        }
        Blake2sDigest d = new Blake2sDigest(256);
        d.update(LABEL_MAC1, 0, LABEL_MAC1.length);
        d.update(responderPublicKey, 0, responderPublicKey.length);
        byte[] key = new byte[KEY_LENGTH];
        d.doFinal(key, 0);
        return key;
    }

    /**
     * True when the handshake message's MAC1 verifies under {@code mac1Key}. The message
     * is the readable bytes of {@code msg} (a shaped type 1 or type 2); not thread-safe:
     * each worker owns its own {@code Mac1}.
     */
    public boolean verify(ByteBuf msg, byte[] mac1Key) {
        int len = msg.readableBytes();
        if (len < WgMessage.MAC1_FROM_END || len > scratch.length) {
            return false;
        }
        int covered = len - WgMessage.MAC1_FROM_END;
        msg.getBytes(msg.readerIndex(), scratch, 0, covered);
        msg.getBytes(msg.readerIndex() + covered, presented, 0, WgMessage.MAC_LENGTH);
        compute(mac1Key, scratch, covered, computed);
        return MessageDigest.isEqual(computed, presented);
    }

    /** MAC1 over {@code data[0..length)}; for tests and tools. */
    public static byte[] compute(byte[] mac1Key, byte[] data, int length) {
        byte[] out = new byte[WgMessage.MAC_LENGTH];
        compute(mac1Key, data, length, out);
        return out;
    }

    private static void compute(byte[] mac1Key, byte[] data, int length, byte[] out) {
        // BC's keyed BLAKE2s keeps no state between uses, so a fresh digest per check is
        // the honest cost: handshakes are rare next to transport data and rate-limited.
        Blake2sDigest d = new Blake2sDigest(mac1Key, WgMessage.MAC_LENGTH, null, null);
        d.update(data, 0, length);
        d.doFinal(out, 0);
    }
}
