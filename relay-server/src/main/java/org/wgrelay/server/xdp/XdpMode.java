package org.wgrelay.server.xdp;

import java.util.Locale;

/** SPEC's {@code --xdp-mode}: how to attach the XDP program, or not at all. */
public enum XdpMode {
    DRV,
    SKB,
    AUTO,
    OFF;

    public static XdpMode parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("invalid --xdp-mode '" + text + "'; expected drv, skb, auto or off");
        }
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
