package org.wgrelay.server.pipeline;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.table.ForwardingTableHolder;

/**
 * The one place the forwarding pipeline's order is written (SPEC's forwarding rules,
 * in order). Each worker's channel gets its own handler instances and its own
 * {@link WorkerState}; nothing in a pipeline is shared with another worker except the
 * published tables and the striped counters.
 */
public final class RelayChannelInitializer extends ChannelInitializer<Channel> {
    private final WorkerState worker;
    private final ForwardingTableHolder tables;
    private final Blocklist blocklist;
    private final UnknownSourcePolicy unknownSources;
    private final boolean traceForwardHashes;

    public RelayChannelInitializer(WorkerState worker, ForwardingTableHolder tables, Blocklist blocklist,
            UnknownSourcePolicy unknownSources, boolean traceForwardHashes) {
        this.worker = worker;
        this.tables = tables;
        this.blocklist = blocklist;
        this.unknownSources = unknownSources;
        this.traceForwardHashes = traceForwardHashes;
    }

    @Override
    protected void initChannel(Channel ch) {
        addStages(ch.pipeline(), worker, tables, blocklist, unknownSources, traceForwardHashes);
    }

    /** Adds the stages in SPEC's order; also used by tests on an {@code EmbeddedChannel}. */
    public static void addStages(ChannelPipeline p, WorkerState worker, ForwardingTableHolder tables,
            Blocklist blocklist, UnknownSourcePolicy unknownSources, boolean traceForwardHashes) {
        p.addLast("rx-counter", new RxCounter(worker));
        p.addLast("blocklist-gate", new BlocklistGate(blocklist, worker));      // rule 1
        p.addLast("shape-filter", new ShapeFilter(worker));                     // rule 2
        p.addLast("source-lookup", new SourceLookup(tables, unknownSources, worker)); // rule 3
        p.addLast("link-lookup", new LinkLookup(worker));                       // rule 4
        // Rule 5 (MAC1 verification of handshakes) goes here.
        if (traceForwardHashes) {
            p.addLast("trace-hasher", new TraceHasher(worker));                 // rule 6 and 7's egress line
        }
        p.addLast("forwarder", new Forwarder(worker));                          // rule 7
        p.addLast("io-error-log", new IoErrorLog(worker));
    }
}
