package org.wgrelay.xdp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shared-struct layout userspace relies on ({@code bpf/wg_relay_abi.h}), checked
 * against the helper's own {@code abi} dump so the two can never drift apart silently.
 * Java never writes these structs itself (the helper does), but the protocol's fields
 * mirror them one for one, and this makes any change to the header a visible event.
 */
public final class AbiLayout {
    /** {@code struct.field -> "offset size"}, and {@code struct sizeof -> "n"}. */
    public static final Map<String, String> EXPECTED;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("wg_config.relay_port", "0 2");
        m.put("wg_config.nic_epoch", "2 2");
        m.put("wg_config sizeof", "4");
        m.put("wg_nic.ip", "0 4");
        m.put("wg_nic.mac", "4 6");
        m.put("wg_nic sizeof", "12");
        m.put("wg_peer_key.ip", "0 4");
        m.put("wg_peer_key.port", "4 2");
        m.put("wg_peer_key sizeof", "8");
        m.put("wg_peer_value.partner_ip", "0 4");
        m.put("wg_peer_value.partner_port", "4 2");
        m.put("wg_peer_value.flags", "6 2");
        m.put("wg_peer_value.egress_ifindex", "8 4");
        m.put("wg_peer_value.generation", "12 4");
        m.put("wg_peer_value.stats_slot", "16 4");
        m.put("wg_peer_value.route", "20 44");
        m.put("wg_peer_value sizeof", "64");
        m.put("wg_peer_route sizeof", "44");
        m.put("wg_mac.mac", "0 6");
        m.put("wg_mac.ifindex", "8 4");
        m.put("wg_mac sizeof", "12");
        m.put("wg_peer_stat.packets", "0 8");
        m.put("wg_peer_stat.bytes", "8 8");
        m.put("wg_peer_stat sizeof", "16");
        m.put("wg_session_key.hub_ip", "0 4");
        m.put("wg_session_key.hub_port", "4 2");
        m.put("wg_session_key.receiver_index", "8 4");
        m.put("wg_session_key sizeof", "12");
        m.put("wg_session_value.owner_ip", "0 4");
        m.put("wg_session_value.owner_port", "4 2");
        m.put("wg_session_value.egress_ifindex", "8 4");
        m.put("wg_session_value sizeof", "12");
        m.put("wg_meta.magic", "0 8");
        m.put("wg_meta.prog_hash", "8 8");
        m.put("wg_meta.abi_hash", "16 8");
        m.put("wg_meta sizeof", "24");
        EXPECTED = Map.copyOf(m);
    }

    private AbiLayout() {}

    /** Parses the helper's {@code abi} lines ({@code name offset size} / {@code name sizeof n}). */
    public static Map<String, String> parse(java.util.List<String> lines) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[1].equals("sizeof")) {
                out.put(f[0] + " sizeof", f[2]);
            } else if (f.length == 3) {
                out.put(f[0], f[1] + " " + f[2]);
            }
        }
        return out;
    }

    /** The differences between what the helper reports and what we expect; empty when they agree. */
    public static Map<String, String> mismatches(Map<String, String> reported) {
        Map<String, String> diff = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            String got = reported.get(e.getKey());
            if (!e.getValue().equals(got)) {
                diff.put(e.getKey(), "expected " + e.getValue() + ", helper says " + got);
            }
        }
        return diff;
    }
}
