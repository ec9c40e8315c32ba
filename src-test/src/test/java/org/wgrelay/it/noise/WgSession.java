package org.wgrelay.it.noise;

import static org.wgrelay.it.noise.WgLayout.RECEIVER_INDEX;
import static org.wgrelay.it.noise.WgLayout.TRANSPORT_COUNTER;
import static org.wgrelay.it.noise.WgLayout.TRANSPORT_HEADER_LENGTH;
import static org.wgrelay.it.noise.WgLayout.TRANSPORT_MIN_LENGTH;
import static org.wgrelay.it.noise.WgLayout.TYPE_TRANSPORT;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.wgrelay.it.noise.WgRejectedException.Reason;

/**
 * One side's transport keys after a completed handshake: seals packets into type-4 messages
 * ({@code type | receiver index | counter | AEAD(T_send, counter, packet, ε)}) and opens the
 * partner's. Receiving keeps a 64-message sliding replay window, like WireGuard's (which is wider).
 * Not thread-safe.
 */
public final class WgSession {

    private static final int WINDOW = 64;
    private static final byte[] NO_AUTHTEXT = new byte[0];

    private final boolean initiator;
    private final int localIndex;
    private final int remoteIndex;
    private final byte[] sendKey;
    private final byte[] receiveKey;
    private long nextSendCounter;
    /** Greatest counter opened so far, -1 before the first. */
    private long highestReceived = -1;
    /** Bit i set: counter {@code highestReceived - i} was opened. */
    private long receivedBits;

    WgSession(boolean initiator, int localIndex, int remoteIndex, byte[] sendKey, byte[] receiveKey) {
        this.initiator = initiator;
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
        this.sendKey = sendKey;
        this.receiveKey = receiveKey;
    }

    /** True on the initiator's side of the handshake. */
    public boolean isInitiator() {
        return initiator;
    }

    /** Our index: the receiver index of every transport message the partner sends us. */
    public int localIndex() {
        return localIndex;
    }

    /** The partner's index: the receiver index of every transport message we send. */
    public int remoteIndex() {
        return remoteIndex;
    }

    /** The counter {@link #seal(byte[])} uses next. */
    public long nextSendCounter() {
        return nextSendCounter;
    }

    /**
     * Seals {@code packet} (an IP packet; WireGuard pads it to a multiple of 16, receivers do not
     * require that) with the next counter.
     */
    public byte[] seal(byte[] packet) {
        return seal(packet, nextSendCounter++);
    }

    /** Seals {@code packet} with a chosen counter, leaving {@link #nextSendCounter()} alone. */
    public byte[] seal(byte[] packet, long counter) {
        byte[] ciphertext = WgCrypto.seal(sendKey, counter, packet, NO_AUTHTEXT);
        byte[] message = new byte[TRANSPORT_HEADER_LENGTH + ciphertext.length];
        ByteBuffer.wrap(message)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, TYPE_TRANSPORT)
                .putInt(RECEIVER_INDEX, remoteIndex)
                .putLong(TRANSPORT_COUNTER, counter);
        System.arraycopy(ciphertext, 0, message, TRANSPORT_HEADER_LENGTH, ciphertext.length);
        return message;
    }

    /** A keepalive: a transport message with an empty packet, 32 bytes. */
    public byte[] keepalive() {
        return seal(new byte[0]);
    }

    /**
     * Opens a transport message from the partner and returns its packet (empty for a keepalive).
     * Throws {@link WgRejectedException} for a wrong shape, a receiver index not ours, a tag that
     * does not verify, or a counter already seen.
     */
    public byte[] open(byte[] message) {
        WgLayout.expectShape(message, TYPE_TRANSPORT, TRANSPORT_MIN_LENGTH);
        int receiverIndex = WgLayout.int32(message, RECEIVER_INDEX);
        if (receiverIndex != localIndex) {
            throw new WgRejectedException(
                    Reason.INDEX_MISMATCH,
                    String.format(
                            "transport receiver index %08x, this session's index %08x", receiverIndex, localIndex));
        }
        long counter = WgLayout.counter(message);
        byte[] packet = WgCrypto.open(
                receiveKey,
                counter,
                message,
                TRANSPORT_HEADER_LENGTH,
                message.length - TRANSPORT_HEADER_LENGTH,
                NO_AUTHTEXT);
        // The window moves only for authentic messages, so a forged counter cannot shift it.
        acceptCounter(counter);
        return packet;
    }

    private void acceptCounter(long counter) {
        if (counter > highestReceived) {
            long shift = counter - highestReceived;
            receivedBits = shift >= WINDOW ? 0 : receivedBits << shift;
            receivedBits |= 1;
            highestReceived = counter;
            return;
        }
        long age = highestReceived - counter;
        if (age >= WINDOW || (receivedBits & (1L << age)) != 0) {
            throw new WgRejectedException(
                    Reason.REPLAYED_COUNTER,
                    "counter " + counter + " already received " + "or behind the window (highest " + highestReceived
                            + ")");
        }
        receivedBits |= 1L << age;
    }

    @Override
    public String toString() {
        return String.format(
                "WgSession[%s, local %08x, remote %08x]",
                initiator ? "initiator" : "responder", localIndex, remoteIndex);
    }
}
