// Load generator: WireGuard-like session indices for the hub benchmark.
package org.wgrelay.loadgen;

/**
 * Maps the generator's small flow ids to 32-bit session indices that look like
 * WireGuard's (random), and back. A WireGuard peer picks each receiver index at
 * random; a relay's session index sees them spread over all 32 bits, never as
 * consecutive small numbers, which would be the kindest case for a hash table.
 * The map is a bijection (xor-shift and multiplication by an odd constant, each
 * invertible modulo 2^32), so the sink decodes the flow id without a table.
 *
 * <p>For spoke {@code k} of a hub: the spoke's own index ({@link #spoke}) is the
 * receiver index of the hub's transport data to it, the hub's index for that
 * session ({@link #hub}) the receiver index of the spoke's transport data.
 */
final class SessionIds {
    /** Flow ids of hub-to-spoke data: SPOKE_FLOW_BASE + k. */
    static final int SPOKE_FLOW_BASE = 10_000;
    /** Flow ids of spoke-to-hub data: HUB_FLOW_BASE + k. */
    static final int HUB_FLOW_BASE = 40_000;
    /** Spokes that fit below both bases and {@link SinkStats#MAX_FLOW_ID}. */
    static final int MAX_SPOKES = 20_000;

    private static final int M = 0x045d9f3b;
    private static final int M_INVERSE = inverse(M);

    private SessionIds() {}

    /** The index spoke {@code k} names itself by (sender index of its initiation). */
    static int spoke(int k) {
        return wire(SPOKE_FLOW_BASE + k);
    }

    /** The index the hub names its session with spoke {@code k} by (sender index of its response). */
    static int hub(int k) {
        return wire(HUB_FLOW_BASE + k);
    }

    /** The session index for a flow id. */
    static int wire(int flow) {
        int x = flow;
        x = (x ^ (x >>> 16)) * M;
        x = (x ^ (x >>> 16)) * M;
        return x ^ (x >>> 16);
    }

    /** The flow id of a session index; inverse of {@link #wire}. */
    static int flow(int wire) {
        int x = wire;
        x = (x ^ (x >>> 16)) * M_INVERSE;
        x = (x ^ (x >>> 16)) * M_INVERSE;
        return x ^ (x >>> 16);
    }

    /** Multiplicative inverse modulo 2^32 of an odd number (Newton: each step doubles the bits). */
    static int inverse(int odd) {
        int x = odd;
        for (int i = 0; i < 5; i++) {
            x *= 2 - odd * x;
        }
        return x;
    }
}
