package org.wgrelay.xdp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The helper's answer to {@code attach}, and SPEC's log line for it:
 * {@code xdp_attached iface= ifindex= mode= driver= kernel=} or
 * {@code xdp_attach_failed iface= ifindex= mode= driver= kernel= reason=}.
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

    /** SPEC's log line for this result. */
    public String logLine() {
        String common = "iface=" + field("iface") + " ifindex=" + field("ifindex") + " mode=" + field("mode")
                + " driver=" + field("driver") + " kernel=" + field("kernel");
        return ok ? "xdp_attached " + common : "xdp_attach_failed " + common + " reason=" + field("reason");
    }

    /** For {@code auto}: what the drv attempt said before falling back to skb, or null. */
    public String fallback() {
        return fields.get("fallback");
    }
}
