package org.wgrelay.server.control;

import static org.wgrelay.control.verb.ArgSpec.required;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;

/** {@code wg blocklist add ip duration}: blocks a source IP for {@code 90s}, {@code 1h}, ... */
final class BlocklistAddVerb implements VerbHandler {
    /** The verb as SPEC names it, with its help text: dispatch, {@code help} and the ctl client read it. */
    static final VerbSpec SPEC = new VerbSpec(
            "wg blocklist add",
            Role.OPERATOR,
            "Block a source IP for a while.",
            List.of(
                    required("ip", "IPv4 or IPv6 address"),
                    required("duration", "how long: a number with s, m, h or d, e.g. 90s or 1h")));

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})([smhd]?)");
    static final long MAX_SECONDS = 365L * 24 * 3600;

    private final ControlContext ctx;

    BlocklistAddVerb(ControlContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Object handle(List<String> args) throws ControlException {
        InetAddress ip = Outcomes.ip(args.get(0));
        long seconds = parseDuration(args.get(1));
        long now = ctx.clockMillis().getAsLong();
        Blocklist blocklist = ctx.blocklist();
        int strikes = blocklist.entries(now).stream()
                .filter(e -> e.ip().equals(ip))
                .mapToInt(Blocklist.Entry::totalStrikes)
                .findFirst()
                .orElse(0);
        Outcomes.storeWrite(() -> {
            ctx.roster().store().block(ip, seconds, strikes);
            return true;
        });
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("ip", Endpoint.hostText(ip));
        result.put("seconds", seconds);
        result.put("total_strikes", strikes);
        ctx.events().publish("state.wg.blocklist_added", result);
        return result;
    }

    static long parseDuration(String text) throws ControlException {
        Matcher m = DURATION.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new ControlException(
                    ErrorCodes.INVALID_ARG,
                    "duration '" + text + "' must be a number with s, m, h or d, e.g. 90s or 1h");
        }
        long n = Long.parseLong(m.group(1));
        long unit = switch (m.group(2)) {
            case "m" -> 60;
            case "h" -> 3600;
            case "d" -> 86400;
            default -> 1;
        };
        long seconds = n * unit;
        if (seconds < 1 || seconds > MAX_SECONDS) {
            throw new ControlException(ErrorCodes.INVALID_ARG, "duration must be between 1s and 365d");
        }
        return seconds;
    }
}
