package org.wgrelay.it.noise;

import static org.wgrelay.it.noise.WgLayout.INITIATION_EPHEMERAL;
import static org.wgrelay.it.noise.WgLayout.INITIATION_LENGTH;
import static org.wgrelay.it.noise.WgLayout.INITIATION_STATIC;
import static org.wgrelay.it.noise.WgLayout.INITIATION_TIMESTAMP;
import static org.wgrelay.it.noise.WgLayout.SENDER_INDEX;
import static org.wgrelay.it.noise.WgLayout.TYPE_INITIATION;

import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.wgrelay.it.noise.WgRejectedException.Reason;

/**
 * One test WireGuard identity: a static key pair plus the public keys of its peers. It starts
 * handshakes as initiator ({@link #initiate}) and answers them as responder ({@link #respond}),
 * producing genuine messages that stock WireGuard accepts.
 *
 * <pre>{@code
 * WgPeer alice = WgPeer.generate();
 * WgPeer bob = WgPeer.generate().allow(alice.publicKey());
 * WgHandshake hs = alice.initiate(bob.publicKey());     // hs.message(): 148-byte initiation
 * WgResponse answer = bob.respond(hs.message());        // answer.message(): 92-byte response
 * WgSession aliceSession = hs.consume(answer.message());
 * byte[] data = aliceSession.seal(packet);              // type-4 transport message
 * byte[] packet = answer.session().open(data);
 * }</pre>
 *
 * <p>As a responder it checks what wireguard-go checks (mac1, the AEADs, that the initiator is a
 * peer, that its timestamp is newer than the last accepted one) and throws {@link
 * WgRejectedException} naming the failed check. No cookies: mac2 is sent as zeros and not checked,
 * which is what WireGuard does when it is not under load. No timers, no rekeying. Not thread-safe.
 */
public final class WgPeer {

    private final WgKeyPair identity;
    /** Peer public key (base64) → TAI64N of its greatest accepted initiation, or an empty array. */
    private final Map<String, byte[]> peers = new HashMap<>();

    private byte[] lastSentTimestamp = new byte[0];

    private WgPeer(WgKeyPair identity) {
        this.identity = identity;
    }

    public static WgPeer of(WgKeyPair identity) {
        return new WgPeer(identity);
    }

    public static WgPeer generate() {
        return new WgPeer(WgKeyPair.generate());
    }

    /** Accepts initiations from {@code peerPublicKey} from now on; returns this. */
    public WgPeer allow(byte[] peerPublicKey) {
        if (peerPublicKey.length != 32) {
            throw new IllegalArgumentException("a WireGuard public key is 32 bytes, not " + peerPublicKey.length);
        }
        peers.putIfAbsent(base64(peerPublicKey), new byte[0]);
        return this;
    }

    public WgKeyPair identity() {
        return identity;
    }

    public byte[] publicKey() {
        return identity.publicKey();
    }

    /** An initiation to {@code responderPublicKey} with a random sender index and the current time. */
    public WgHandshake initiate(byte[] responderPublicKey) {
        return initiate(responderPublicKey, WgCrypto.RANDOM.nextInt());
    }

    /** An initiation with a chosen sender index, stamped with the current time. */
    public WgHandshake initiate(byte[] responderPublicKey, int senderIndex) {
        byte[] timestamp = WgCrypto.tai64n(Instant.now());
        if (Arrays.compareUnsigned(timestamp, lastSentTimestamp) <= 0) {
            // Two initiations within one clock tick: keep them strictly increasing, as a responder demands.
            timestamp = increment(lastSentTimestamp);
        }
        return initiate(responderPublicKey, senderIndex, timestamp);
    }

    /**
     * An initiation with a chosen sender index and 12-byte TAI64N timestamp (see {@link
     * WgCrypto#tai64n}); an old timestamp makes a replay-protected responder refuse it.
     */
    public WgHandshake initiate(byte[] responderPublicKey, int senderIndex, byte[] timestamp) {
        if (timestamp.length != WgCrypto.TIMESTAMP_LENGTH) {
            throw new IllegalArgumentException("a TAI64N timestamp is 12 bytes");
        }
        if (Arrays.compareUnsigned(timestamp, lastSentTimestamp) > 0) {
            lastSentTimestamp = timestamp.clone();
        }
        byte[] message = new byte[INITIATION_LENGTH];
        WgLayout.putInt32(message, 0, TYPE_INITIATION);
        WgLayout.putInt32(message, SENDER_INDEX, senderIndex);

        NoiseState state = NoiseState.start(responderPublicKey);
        WgKeyPair ephemeral = WgKeyPair.generate();
        byte[] ephemeralPublic = ephemeral.publicKey();
        state.mixKey(ephemeralPublic);
        state.mixHash(ephemeralPublic);
        System.arraycopy(ephemeralPublic, 0, message, INITIATION_EPHEMERAL, 32);

        byte[] key = state.mixKeyAndGetKey(ephemeral.agree(responderPublicKey));
        byte[] encryptedStatic = state.encryptAndHash(key, identity.publicKey());
        System.arraycopy(encryptedStatic, 0, message, INITIATION_STATIC, encryptedStatic.length);

        key = state.mixKeyAndGetKey(identity.agree(responderPublicKey));
        byte[] encryptedTimestamp = state.encryptAndHash(key, timestamp);
        System.arraycopy(encryptedTimestamp, 0, message, INITIATION_TIMESTAMP, encryptedTimestamp.length);

        Mac1.stamp(message, responderPublicKey);
        return new WgHandshake(identity, responderPublicKey.clone(), senderIndex, ephemeral, state, message);
    }

    /** Answers an initiation addressed to this identity with a response from a random sender index. */
    public WgResponse respond(byte[] initiation) {
        return respond(initiation, WgCrypto.RANDOM.nextInt());
    }

    /**
     * Consumes {@code initiation} and answers it with a response whose sender index is {@code
     * senderIndex}. Throws {@link WgRejectedException} for anything stock WireGuard would drop.
     */
    public WgResponse respond(byte[] initiation, int senderIndex) {
        WgLayout.expectShape(initiation, TYPE_INITIATION, INITIATION_LENGTH);
        byte[] ownPublic = identity.publicKey();
        if (!Mac1.verifies(initiation, ownPublic)) {
            throw new WgRejectedException(Reason.MAC1_MISMATCH, "initiation not addressed to " + identity);
        }
        NoiseState state = NoiseState.start(ownPublic);
        byte[] initiatorEphemeral = Arrays.copyOfRange(initiation, INITIATION_EPHEMERAL, INITIATION_EPHEMERAL + 32);
        state.mixKey(initiatorEphemeral);
        state.mixHash(initiatorEphemeral);

        byte[] key = state.mixKeyAndGetKey(identity.agree(initiatorEphemeral));
        byte[] initiatorStatic = state.decryptAndHash(key, initiation, INITIATION_STATIC, 32 + 16);
        byte[] lastTimestamp = peers.get(base64(initiatorStatic));
        if (lastTimestamp == null) {
            throw new WgRejectedException(
                    Reason.UNKNOWN_PEER, "initiator " + base64(initiatorStatic) + " is not a peer of " + identity);
        }

        key = state.mixKeyAndGetKey(identity.agree(initiatorStatic));
        byte[] timestamp = state.decryptAndHash(key, initiation, INITIATION_TIMESTAMP, WgCrypto.TIMESTAMP_LENGTH + 16);
        if (Arrays.compareUnsigned(timestamp, lastTimestamp) <= 0) {
            throw new WgRejectedException(
                    Reason.REPLAYED_TIMESTAMP,
                    "timestamp not newer than the last accepted initiation of " + base64(initiatorStatic));
        }
        peers.put(base64(initiatorStatic), timestamp);

        int initiatorIndex = WgLayout.int32(initiation, SENDER_INDEX);
        return WgResponse.create(state, senderIndex, initiatorIndex, initiatorEphemeral, initiatorStatic, timestamp);
    }

    private static byte[] increment(byte[] timestamp) {
        byte[] next = timestamp.clone();
        for (int i = next.length - 1; i >= 0 && ++next[i] == 0; i--) {
            // carry into the next byte up
        }
        return next;
    }

    static String base64(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }

    @Override
    public String toString() {
        return "WgPeer[" + identity.publicKeyBase64() + ", " + peers.size() + " peers]";
    }
}
