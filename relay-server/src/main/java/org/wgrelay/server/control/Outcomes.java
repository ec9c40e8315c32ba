package org.wgrelay.server.control;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterOutcome;

/** Turns roster outcomes and argument parse failures into control errors. */
final class Outcomes {
    private Outcomes() {}

    /** Runs a blocklist write through the store; an unreachable store is SPEC C's {@code store_unavailable}. */
    static boolean storeWrite(java.util.function.BooleanSupplier write) throws ControlException {
        try {
            return write.getAsBoolean();
        } catch (org.wgrelay.server.store.StoreUnavailableException e) {
            throw new ControlException(RosterOutcome.STORE_UNAVAILABLE.code(), e.getMessage());
        }
    }

    /** Returns normally for OK; otherwise throws the outcome's SPEC code and message. */
    static void require(RosterChange change) throws ControlException {
        if (!change.ok()) {
            throw new ControlException(change.outcome().code(), change.message());
        }
    }

    /** A link as SPEC writes it: {@code {a, b}}, in that order. */
    static Map<String, Object> link(String a, String b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", a);
        m.put("b", b);
        return m;
    }

    /** An endpoint, or null for {@code -}: a peer whose endpoint the relay learns (SPEC E). */
    static Endpoint endpointOrNone(String text) throws ControlException {
        return "-".equals(text) ? null : endpoint(text);
    }

    static Endpoint endpoint(String text) throws ControlException {
        try {
            return Endpoint.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ControlException(ErrorCodes.INVALID_ARG, e.getMessage());
        }
    }

    /** An IP literal (never a host name: no DNS lookups from the control channel). */
    static InetAddress ip(String text) throws ControlException {
        if (text == null
                || !text.matches("[0-9A-Fa-f:.]+")
                || !(text.indexOf(':') >= 0 || text.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
            throw new ControlException(ErrorCodes.INVALID_ARG, "'" + text + "' is not an IP address");
        }
        try {
            return Endpoint.normalise(InetAddress.getByName(text));
        } catch (java.io.IOException e) {
            throw new ControlException(ErrorCodes.INVALID_ARG, "'" + text + "' is not an IP address");
        }
    }
}
