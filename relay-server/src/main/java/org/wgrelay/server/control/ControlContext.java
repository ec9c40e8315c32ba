package org.wgrelay.server.control;

import java.util.function.LongSupplier;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.RosterService;
import org.wgrelay.server.server.RelayServer;
import org.wgrelay.server.server.ServeConfig;
import org.wgrelay.server.status.RelayStatus;

/**
 * What the verbs act on. Verbs run on the control executor; everything here is safe to
 * use from there (the roster has its own writer lock, the rest are snapshots or reads).
 */
public record ControlContext(
        ServeConfig config,
        RosterService roster,
        RelayStatus status,
        RelayServer udp,
        Blocklist blocklist,
        EventSink events,
        LongSupplier clockMillis) {}
