package org.wgrelay.it.noise;

import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * A Curve25519 key pair as WireGuard uses it for static and ephemeral keys. The private key is
 * clamped as {@code wg genkey} clamps it, so {@link #privateKeyBase64()} can be handed to {@code
 * wg set ... private-key} and {@link #publicKeyBase64()} equals what {@code wg pubkey} prints.
 * Immutable; accessors return copies.
 */
public final class WgKeyPair {

    private final byte[] privateKey;
    private final byte[] publicKey;

    private WgKeyPair(byte[] privateKey) {
        this.privateKey = clamp(privateKey);
        this.publicKey = new byte[X25519.POINT_SIZE];
        X25519.scalarMultBase(this.privateKey, 0, publicKey, 0);
    }

    /** A fresh key pair from a secure random source. */
    public static WgKeyPair generate() {
        return new WgKeyPair(WgCrypto.randomBytes(X25519.SCALAR_SIZE));
    }

    /** The key pair of a fixed 32-byte private key (clamped on the way in). */
    public static WgKeyPair fromPrivateKey(byte[] privateKey) {
        if (privateKey.length != X25519.SCALAR_SIZE) {
            throw new IllegalArgumentException("a WireGuard private key is 32 bytes, not " + privateKey.length);
        }
        return new WgKeyPair(privateKey.clone());
    }

    /** The key pair of a base64 private key as {@code wg genkey} prints it. */
    public static WgKeyPair fromBase64(String privateKeyBase64) {
        return fromPrivateKey(Base64.getDecoder().decode(privateKeyBase64.strip()));
    }

    public byte[] privateKey() {
        return privateKey.clone();
    }

    public byte[] publicKey() {
        return publicKey.clone();
    }

    public String privateKeyBase64() {
        return Base64.getEncoder().encodeToString(privateKey);
    }

    /** The public key as {@code wg} prints it and as the relay's roster stores it. */
    public String publicKeyBase64() {
        return Base64.getEncoder().encodeToString(publicKey);
    }

    /** Decodes a base64 public key as {@code wg} prints it. */
    public static byte[] decodePublicKey(String base64) {
        byte[] key = Base64.getDecoder().decode(base64.strip());
        if (key.length != X25519.POINT_SIZE) {
            throw new IllegalArgumentException("a WireGuard public key is 32 bytes, not " + key.length);
        }
        return key;
    }

    /** {@code DH(this private, peer public)}. */
    byte[] agree(byte[] peerPublicKey) {
        return WgCrypto.dh(privateKey, peerPublicKey);
    }

    private static byte[] clamp(byte[] key) {
        key[0] &= (byte) 248;
        key[31] &= 127;
        key[31] |= 64;
        return key;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof WgKeyPair that && Arrays.equals(publicKey, that.publicKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(publicKey);
    }

    /** Never prints the private key. */
    @Override
    public String toString() {
        return "WgKeyPair[" + publicKeyBase64() + "]";
    }
}
