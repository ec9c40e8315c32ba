package org.wgrelay.server.handover;

import java.util.Locale;

/** What a handed-over socket is; the offer names each in the order the descriptors follow. */
public enum SocketRole {
    /** One worker's {@code SO_REUSEPORT} datagram socket. */
    UDP,
    CONTROL,
    METRICS;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SocketRole fromWire(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new HandoverException("unknown socket role '" + name + "'");
        }
    }
}
