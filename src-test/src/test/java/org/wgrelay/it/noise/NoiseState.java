package org.wgrelay.it.noise;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The running chaining key {@code C} and hash {@code H} of one Noise_IKpsk2 handshake, with the
 * operations the WireGuard paper composes its two messages from. Mutable, one per handshake,
 * used by one thread.
 */
final class NoiseState {

    static final byte[] CONSTRUCTION = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".getBytes(StandardCharsets.US_ASCII);
    static final byte[] IDENTIFIER = "WireGuard v1 zx2c4 Jason@zx2c4.com".getBytes(StandardCharsets.US_ASCII);

    /** {@code C0 = HASH(CONSTRUCTION)} and {@code H0 = HASH(C0 || IDENTIFIER)}, the same for every handshake. */
    private static final byte[] INITIAL_CHAINING_KEY = WgCrypto.hash(CONSTRUCTION);

    private static final byte[] INITIAL_HASH = WgCrypto.hash(INITIAL_CHAINING_KEY, IDENTIFIER);

    private byte[] chainingKey;
    private byte[] hash;

    private NoiseState(byte[] chainingKey, byte[] hash) {
        this.chainingKey = chainingKey;
        this.hash = hash;
    }

    /** The state both sides start from: {@code H = HASH(H0 || responder static public)}. */
    static NoiseState start(byte[] responderStaticPublic) {
        return new NoiseState(INITIAL_CHAINING_KEY.clone(), WgCrypto.hash(INITIAL_HASH, responderStaticPublic));
    }

    /** {@code H = HASH(H || data)}. */
    void mixHash(byte[] data) {
        hash = WgCrypto.hash(hash, data);
    }

    /** {@code C = KDF1(C, input)}. */
    void mixKey(byte[] input) {
        chainingKey = WgCrypto.kdf1(chainingKey, input);
    }

    /** {@code (C, κ) = KDF2(C, input)}; returns κ. */
    byte[] mixKeyAndGetKey(byte[] input) {
        byte[][] out = WgCrypto.kdf(2, chainingKey, input);
        chainingKey = out[0];
        return out[1];
    }

    /** {@code (C, τ, κ) = KDF3(C, Q)}; {@code H = HASH(H || τ)}; returns κ. The psk2 step of the response. */
    byte[] mixPresharedKey(byte[] presharedKey) {
        byte[][] out = WgCrypto.kdf(3, chainingKey, presharedKey);
        chainingKey = out[0];
        mixHash(out[1]);
        return out[2];
    }

    /** {@code c = AEAD(κ, 0, plaintext, H)}; {@code H = HASH(H || c)}; returns c. */
    byte[] encryptAndHash(byte[] key, byte[] plaintext) {
        byte[] ciphertext = WgCrypto.seal(key, 0, plaintext, hash);
        mixHash(ciphertext);
        return ciphertext;
    }

    /** Opens {@code c = message[offset .. offset+length)} with {@code AEAD(κ, 0, ·, H)}; {@code H = HASH(H || c)}. */
    byte[] decryptAndHash(byte[] key, byte[] message, int offset, int length) {
        byte[] plaintext = WgCrypto.open(key, 0, message, offset, length, hash);
        mixHash(Arrays.copyOfRange(message, offset, offset + length));
        return plaintext;
    }

    /** {@code (T_initiator_send, T_initiator_recv) = KDF2(C, ε)}. */
    byte[][] transportKeys() {
        return WgCrypto.kdf(2, chainingKey, new byte[0]);
    }
}
