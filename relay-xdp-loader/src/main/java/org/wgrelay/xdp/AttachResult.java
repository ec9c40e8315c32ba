package org.wgrelay.xdp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The helper's answer to {@code attach}, and SPEC's log line for it:
 * {@code xdp_attached iface= ifindex= mode= driver= kernel=},
 * {@code xdp_adopted iface= prog_id= mode=} (a program kept by an earlier relay, taken as it
 * runs) or {@code xdp_attach_failed iface= ifindex= mode= driver= kernel= reason=}.
 */
public record AttachResult(boolean ok, Map<String, String> fields) {
    private static final Pattern KEY = Pattern.compile("(?:^| )([a-z_]+)=");

    /** Parses {@code ok attach k=v ...} / {@code err attach k=v ...}; values may hold spaces. */
    public static AttachResult parse(String answer) {
        boolean ok = answer.startsWith("ok attach");
        if (!ok && !answer.startsWith("err attach")) {
            Map<String, String> f = new LinkedHashMap<>();
            f.put("reason", answer);
            return new AttachResult(false, f);
        }
        String rest = answer.substring(answer.indexOf("attach") + "attach".length());
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher m = KEY.matcher(rest);
        String key = null;
        int valueStart = 0;
        while (m.find()) {
            if (key != null) {
                fields.put(key, rest.substring(valueStart, m.start()).trim());
            }
            key = m.group(1);
            valueStart = m.end();
        }
        if (key != null) {
            fields.put(key, rest.substring(valueStart).trim());
        }
        return new AttachResult(ok, fields);
    }

    public String field(String name) {
        return fields.getOrDefault(name, "?");
    }

    /** The achieved mode ({@code drv} or {@code skb}) of a successful attach. */
    public String mode() {
        return field("mode");
    }

    public int ifindex() {
        try {
            return Integer.parseInt(field("ifindex"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** What the attach found on the NIC: {@code fresh}, {@code adopted} or {@code replaced} ({@code bpf/PROTOCOL.md}). */
    public String state() {
        return field("state");
    }

    /** True when a kept program was taken as it runs: its maps hold entries and counts already. */
    public boolean adopted() {
        return "adopted".equals(fields.get("state"));
    }

    /**
     * True when the program now runs on maps that were not empty: adopted, or replaced on
     * the kept maps. The maps are then read back, not cleared, to resync them.
     */
    public boolean mapsKept() {
        return adopted() || ("replaced".equals(fields.get("state")) && "kept".equals(fields.get("maps")));
    }

    /**
     * SPEC's log line for this result: {@code xdp_adopted} for an adopted program,
     * {@code xdp_attached} for a fresh or a replaced one (see {@link #replacedLine}).
     */
    public String logLine() {
        if (ok && adopted()) {
            return "xdp_adopted iface=" + field("iface") + " prog_id=" + field("prog_id") + " mode=" + field("mode");
        }
        String common = "iface=" + field("iface") + " ifindex=" + field("ifindex") + " mode=" + field("mode")
                + " driver=" + field("driver") + " kernel=" + field("kernel");
        if (!ok) {
            return "xdp_attach_failed " + common + " reason=" + field("reason");
        }
        return "xdp_attached " + common;
    }

    /**
     * For a kept program of another build that this attach replaced: {@code xdp_replaced iface=
     * old_prog_id= prog_id= maps=kept|new}, logged after {@link #logLine}; else null.
     */
    public String replacedLine() {
        if (!ok || !"replaced".equals(fields.get("state"))) {
            return null;
        }
        return "xdp_replaced iface=" + field("iface") + " old_prog_id=" + field("old_prog_id") + " prog_id="
                + field("prog_id") + " maps=" + field("maps");
    }

    /** For {@code auto}: what the drv attempt said before falling back to skb, or null. */
    public String fallback() {
        return fields.get("fallback");
    }
}
