// Load generator: the layout of one generated datagram.
package org.wgrelay.loadgen;

import io.netty.buffer.ByteBuf;

/**
 * A WireGuard transport-data-shaped datagram (type 4), laid out like the
 * reference generator {@code shared/bench/udpblast.c} so that both feed the
 * same relay rules and their sinks read each other's packets:
 *
 * <pre>
 *   [0..3]   04 00 00 00   message type, little endian
 *   [4..7]   flow id       (WireGuard: receiver index), LE u32
 *   [8..15]  sequence      (WireGuard: counter), LE u64, from 0
 *   [16..23] send time     System.nanoTime() (CLOCK_MONOTONIC on Linux), LE u64
 *   [24..S)  zero padding  S >= 32, the smallest valid transport message
 * </pre>
 *
 * The send time is CLOCK_MONOTONIC, which every process on the host shares
 * (network namespaces do not change it), so a sink in another process and
 * namespace can subtract it from its own {@code System.nanoTime()}.
 */
final class Payload {
    static final int TYPE_TRANSPORT_DATA = 4;
    static final int OFFSET_FLOW_ID = 4;
    static final int OFFSET_SEQUENCE = 8;
    static final int OFFSET_SEND_NANOS = 16;
    static final int HEADER_LENGTH = 24;
    /** Smallest WireGuard transport message: header 16 + empty payload's tag 16. */
    static final int MIN_SIZE = 32;
    /** Our datagrams never exceed this; the receive side sizes its buffers by it. */
    static final int MAX_SIZE = 2048;

    private Payload() {}

    /** Writes one datagram of {@code size} bytes into {@code out}. */
    static void write(ByteBuf out, int flowId, long sequence, long sendNanos, int size) {
        out.writeIntLE(TYPE_TRANSPORT_DATA);
        out.writeIntLE(flowId);
        out.writeLongLE(sequence);
        out.writeLongLE(sendNanos);
        out.writeZero(size - HEADER_LENGTH);
    }

    /** True when the buffer starts with the type-4 word and holds the whole header. */
    static boolean isOurs(ByteBuf in) {
        return in.readableBytes() >= HEADER_LENGTH && in.getIntLE(in.readerIndex()) == TYPE_TRANSPORT_DATA;
    }

    static int flowId(ByteBuf in) {
        return in.getIntLE(in.readerIndex() + OFFSET_FLOW_ID);
    }

    static long sequence(ByteBuf in) {
        return in.getLongLE(in.readerIndex() + OFFSET_SEQUENCE);
    }

    static long sendNanos(ByteBuf in) {
        return in.getLongLE(in.readerIndex() + OFFSET_SEND_NANOS);
    }
}
