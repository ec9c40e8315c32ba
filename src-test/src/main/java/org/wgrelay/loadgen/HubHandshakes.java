// Load generator: the handshake messages that prime a relay's session index.
package org.wgrelay.loadgen;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.BitSet;
import java.util.Random;
import org.wgrelay.server.wire.Mac1;

/**
 * WireGuard-shaped initiations (type 1, 148 bytes) and responses (type 2, 92
 * bytes) for the hub benchmark. The relay reads only the type word, the
 * indices and MAC1 (SPEC "Hub links"), so the cryptographic fields are filler;
 * MAC1 is real: keyed by the responder's public key for an initiation and by
 * the initiator's for a response. Public keys are derived from peer names
 * ({@link #publicKey}), so the registering process and the sending one agree
 * without sharing a file.
 *
 * <p>Layout (WireGuard paper, section 5.4): type 1 = type, sender index,
 * ephemeral (32), static (48), timestamp (28), mac1, mac2; type 2 = type,
 * sender index, receiver index, ephemeral (32), empty (16), mac1, mac2. MAC1
 * covers everything before it and sits 32 bytes from the end.
 */
final class HubHandshakes {
    static final int TYPE_INITIATION = 1;
    static final int TYPE_RESPONSE = 2;
    static final int INITIATION_LENGTH = 148;
    static final int RESPONSE_LENGTH = 92;
    static final int MAC1_FROM_END = 32;
    static final int MAC_LENGTH = 16;

    private HubHandshakes() {}

    /** A stand-in public key for a peer name: SHA-256 of a label and the name. */
    static byte[] publicKey(String peerName) {
        try {
            return MessageDigest.getInstance("SHA-256")
                    .digest(("wg-relay hub bench " + peerName).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An initiation with {@code senderIndex}, MAC1 keyed for the responder. */
    static byte[] initiation(int senderIndex, byte[] responderPublicKey) {
        byte[] m = filler(INITIATION_LENGTH, senderIndex);
        putIntLE(m, 0, TYPE_INITIATION);
        putIntLE(m, 4, senderIndex);
        return withMac1(m, responderPublicKey);
    }

    /** A response to {@code receiverIndex}, MAC1 keyed for the initiator. */
    static byte[] response(int senderIndex, int receiverIndex, byte[] initiatorPublicKey) {
        byte[] m = filler(RESPONSE_LENGTH, senderIndex);
        putIntLE(m, 0, TYPE_RESPONSE);
        putIntLE(m, 4, senderIndex);
        putIntLE(m, 8, receiverIndex);
        return withMac1(m, initiatorPublicKey);
    }

    static boolean isHandshake(ByteBuf in) {
        int len = in.readableBytes();
        if (len < 4) {
            return false;
        }
        int type = in.getIntLE(in.readerIndex());
        return type == TYPE_INITIATION && len == INITIATION_LENGTH || type == TYPE_RESPONSE && len == RESPONSE_LENGTH;
    }

    private static byte[] filler(int length, int seed) {
        byte[] m = new byte[length];
        new Random(seed).nextBytes(m);
        for (int i = length - MAC_LENGTH; i < length; i++) {
            m[i] = 0; // mac2: no cookie
        }
        return m;
    }

    private static byte[] withMac1(byte[] m, byte[] publicKey) {
        int covered = m.length - MAC1_FROM_END;
        byte[] mac = Mac1.compute(Mac1.keyFor(publicKey), m, covered);
        System.arraycopy(mac, 0, m, covered, MAC_LENGTH);
        return m;
    }

    private static void putIntLE(byte[] m, int at, int v) {
        m[at] = (byte) v;
        m[at + 1] = (byte) (v >>> 8);
        m[at + 2] = (byte) (v >>> 16);
        m[at + 3] = (byte) (v >>> 24);
    }

    /**
     * Which sessions' handshakes arrived: initiations by sender index, responses
     * by receiver index, both as flow ids ({@link SessionIds#flow}). Event-loop
     * confined like {@link SinkStats}.
     */
    static final class Tally {
        final BitSet initiations = new BitSet();
        final BitSet responses = new BitSet();
        long other;

        void record(ByteBuf in) {
            int type = in.getIntLE(in.readerIndex());
            int index = in.getIntLE(in.readerIndex() + (type == TYPE_INITIATION ? 4 : 8));
            int flow = SessionIds.flow(index);
            if (flow < 0 || flow >= SinkStats.MAX_FLOW_ID) {
                other++;
            } else if (type == TYPE_INITIATION) {
                initiations.set(flow);
            } else {
                responses.set(flow);
            }
        }
    }
}
