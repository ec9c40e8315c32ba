package org.wgrelay.server.control;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.DropSourceTable;
import org.wgrelay.server.state.EventSink;
import org.wgrelay.server.state.RosterService;
import org.wgrelay.server.status.RelayStatus;

/**
 * What the verbs act on. Operator verbs run one at a time on the control writer thread,
 * read verbs on the control reader threads beside them; everything here is safe to use from
 * any of those (the roster has its own writer lock, the rest are snapshots or reads).
 *
 * @param relayAddress the UDP address the relay is bound to, with its bound port (a
 *     wildcard address when bound to all)
 * @param dropSources reads the workers' per-source drop tables (on their event loops)
 */
public record ControlContext(
        InetSocketAddress relayAddress,
        RosterService roster,
        RelayStatus status,
        Callable<List<DropSourceTable.Row>> dropSources,
        Blocklist blocklist,
        EventSink events,
        LongSupplier clockMillis) {}
