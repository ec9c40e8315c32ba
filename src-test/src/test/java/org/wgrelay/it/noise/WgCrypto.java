package org.wgrelay.it.noise;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Instant;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.Blake2sDigest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * The cryptographic primitives of the WireGuard paper (section 5.4), named as the paper names
 * them: {@code HASH}, {@code MAC}, {@code HMAC}, {@code KDF1..3}, {@code DH}, {@code AEAD} and
 * {@code TAI64N}. Every function is a pure function of its arguments and allocates its result.
 *
 * <p>This is the test side's own implementation on top of Bouncy Castle, written from the paper
 * and not from the relay's code, so that a test built on it cross-checks the relay.
 */
final class WgCrypto {

    static final int KEY_LENGTH = 32;
    static final int HASH_LENGTH = 32;
    static final int MAC_LENGTH = 16;
    static final int AEAD_TAG_LENGTH = 16;
    static final int TIMESTAMP_LENGTH = 12;

    /** A 32-byte all-zero preshared key: WireGuard's {@code Q} when none is configured. */
    static final byte[] NO_PRESHARED_KEY = new byte[KEY_LENGTH];

    /** TAI64 label of the Unix epoch: 2^62 plus the 10 leap seconds of 1970, as wireguard-go uses. */
    private static final long TAI64_EPOCH = 0x400000000000000aL;

    static final SecureRandom RANDOM = new SecureRandom();

    private WgCrypto() {}

    /** {@code HASH(input...)}: BLAKE2s-256 over the concatenation of the inputs. */
    static byte[] hash(byte[]... inputs) {
        Blake2sDigest digest = new Blake2sDigest(HASH_LENGTH * 8);
        for (byte[] input : inputs) {
            digest.update(input, 0, input.length);
        }
        byte[] out = new byte[HASH_LENGTH];
        digest.doFinal(out, 0);
        return out;
    }

    /** {@code MAC(key, input)}: keyed BLAKE2s with a 16-byte output, over {@code input[0..length)}. */
    static byte[] mac(byte[] key, byte[] input, int length) {
        Blake2sDigest digest = new Blake2sDigest(key, MAC_LENGTH, null, null);
        digest.update(input, 0, length);
        byte[] out = new byte[MAC_LENGTH];
        digest.doFinal(out, 0);
        return out;
    }

    /** {@code HMAC(key, input)}: RFC 2104 HMAC over BLAKE2s-256, whose block is 64 bytes. */
    static byte[] hmac(byte[] key, byte[]... inputs) {
        HMac hmac = new HMac(new Blake2sDigest(HASH_LENGTH * 8));
        hmac.init(new KeyParameter(key));
        for (byte[] input : inputs) {
            hmac.update(input, 0, input.length);
        }
        byte[] out = new byte[HASH_LENGTH];
        hmac.doFinal(out, 0);
        return out;
    }

    /**
     * {@code KDFn(key, input)}: {@code τ0 = HMAC(key, input)}, {@code τ1 = HMAC(τ0, 0x1)},
     * {@code τi = HMAC(τ0, τ(i-1) || i)}; returns {@code τ1..τn}.
     */
    static byte[][] kdf(int n, byte[] key, byte[] input) {
        byte[] prk = hmac(key, input);
        byte[][] out = new byte[n][];
        byte[] previous = new byte[0];
        for (int i = 1; i <= n; i++) {
            out[i - 1] = hmac(prk, previous, new byte[] {(byte) i});
            previous = out[i - 1];
        }
        return out;
    }

    static byte[] kdf1(byte[] key, byte[] input) {
        return kdf(1, key, input)[0];
    }

    /** {@code DH(private, public)}: X25519. An all-zero result (a low-order point) is refused, as WireGuard does. */
    static byte[] dh(byte[] privateKey, byte[] publicKey) {
        byte[] shared = new byte[X25519.POINT_SIZE];
        if (!X25519.calculateAgreement(privateKey, 0, publicKey, 0, shared, 0)) {
            throw new WgRejectedException(
                    WgRejectedException.Reason.BAD_PUBLIC_KEY,
                    "X25519 with a low-order public key gives the all-zero secret");
        }
        return shared;
    }

    /** The 12-byte ChaCha20-Poly1305 nonce of WireGuard: 4 zero bytes, then the 64-bit counter little-endian. */
    static byte[] nonce(long counter) {
        return ByteBuffer.allocate(12)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(4, counter)
                .array();
    }

    /** {@code AEAD(key, counter, plaintext, authtext)}: ChaCha20-Poly1305; the result ends with the 16-byte tag. */
    static byte[] seal(byte[] key, long counter, byte[] plaintext, byte[] authtext) {
        return aead(true, key, counter, plaintext, 0, plaintext.length, authtext);
    }

    /** Inverse of {@link #seal}; throws {@link WgRejectedException} when the tag does not verify. */
    static byte[] open(byte[] key, long counter, byte[] ciphertext, int offset, int length, byte[] authtext) {
        return aead(false, key, counter, ciphertext, offset, length, authtext);
    }

    private static byte[] aead(
            boolean encrypt, byte[] key, long counter, byte[] in, int offset, int length, byte[] authtext) {
        ChaCha20Poly1305 cipher = new ChaCha20Poly1305();
        cipher.init(encrypt, new AEADParameters(new KeyParameter(key), AEAD_TAG_LENGTH * 8, nonce(counter), authtext));
        byte[] out = new byte[cipher.getOutputSize(length)];
        int written = cipher.processBytes(in, offset, length, out, 0);
        try {
            cipher.doFinal(out, written);
        } catch (InvalidCipherTextException e) {
            throw new WgRejectedException(
                    WgRejectedException.Reason.DECRYPTION_FAILED,
                    "ChaCha20-Poly1305 tag does not verify (counter " + counter + ")");
        }
        return out;
    }

    /**
     * {@code TAI64N()} of {@code instant}: 8-byte big-endian TAI64 seconds, then 4-byte big-endian
     * nanoseconds. wireguard-go additionally rounds the nanoseconds down to about 16 ms so that its
     * timestamps leak no fine timing; a responder only requires them to increase per initiator.
     */
    static byte[] tai64n(Instant instant) {
        return ByteBuffer.allocate(TIMESTAMP_LENGTH)
                .putLong(TAI64_EPOCH + instant.getEpochSecond())
                .putInt(instant.getNano())
                .array();
    }

    static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
