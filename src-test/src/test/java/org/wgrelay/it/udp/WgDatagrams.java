package org.wgrelay.it.udp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.wgrelay.server.wire.WgMessage;

/** WireGuard-shaped test datagrams with random bodies. */
final class WgDatagrams {
    private WgDatagrams() {}

    static byte[] shaped(int type, int length, Random random) {
        byte[] b = new byte[length];
        random.nextBytes(b);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type);
        return b;
    }

    static byte[] initiation(Random r) {
        return shaped(WgMessage.TYPE_HANDSHAKE_INITIATION, WgMessage.HANDSHAKE_INITIATION_LENGTH, r);
    }

    static byte[] response(Random r) {
        return shaped(WgMessage.TYPE_HANDSHAKE_RESPONSE, WgMessage.HANDSHAKE_RESPONSE_LENGTH, r);
    }

    static byte[] cookie(Random r) {
        return shaped(WgMessage.TYPE_COOKIE_REPLY, WgMessage.COOKIE_REPLY_LENGTH, r);
    }

    static byte[] transport(int length, Random r) {
        return shaped(WgMessage.TYPE_TRANSPORT_DATA, length, r);
    }
}
