package org.wgrelay.it.xdp;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * WireGuard-shaped datagrams with random bodies (SPEC rule 2: the little-endian type word, then
 * 148 / 92 / 64 / at least 32 bytes in all). Nothing checks their cryptography without stamped
 * keys, so random bytes do; distinct bodies make every datagram recognisable at the far end.
 */
final class WgPayloads {

    private final SplittableRandom random;

    WgPayloads(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** {@code length} bytes: {@code typeWord} as a little-endian uint32, then random bytes. */
    byte[] ofType(int typeWord, int length) {
        byte[] b = new byte[length];
        random.nextBytes(b);
        for (int i = 0; i < 4 && i < length; i++) {
            b[i] = (byte) (typeWord >>> (8 * i));
        }
        return b;
    }

    byte[] transport() {
        return ofType(4, 32 + random.nextInt(1400 - 32 + 1));
    }

    byte[] cookieReply() {
        return ofType(3, 64);
    }

    byte[] initiation() {
        return ofType(1, 148);
    }

    byte[] response() {
        return ofType(2, 92);
    }

    /** {@code n} transport messages of random length, every fifth a cookie reply. */
    List<byte[]> dataMix(int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(i % 5 == 4 ? cookieReply() : transport());
        }
        return out;
    }

    List<byte[]> transports(int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(transport());
        }
        return out;
    }

    static long bytes(List<byte[]> payloads) {
        return payloads.stream().mapToLong(p -> p.length).sum();
    }
}
