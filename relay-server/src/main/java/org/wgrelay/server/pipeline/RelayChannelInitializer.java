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
    private final LinkedSourceWatch roaming;
    private final boolean hubLinks;
    private final boolean traceForwardHashes;

    /**
     * @param unknownSources what happens to datagrams from unregistered endpoints (rule 3):
     *     roaming's candidate search, or {@link DropUnknownSources}
     * @param roaming roaming's watch over registered sources (rules 8, 9); null for a relay
     *     without roaming
     * @param hubLinks whether peers may be in several links (SPEC B, {@code --max-links-per-peer}
     *     above 1): only then do the hub stages run, so a relay without hubs has today's stages
     */
    public RelayChannelInitializer(
            WorkerState worker,
            ForwardingTableHolder tables,
            Blocklist blocklist,
            UnknownSourcePolicy unknownSources,
            LinkedSourceWatch roaming,
            boolean hubLinks,
            boolean traceForwardHashes) {
        this.worker = worker;
        this.tables = tables;
        this.blocklist = blocklist;
        this.unknownSources = unknownSources;
        this.roaming = roaming;
        this.hubLinks = hubLinks;
        this.traceForwardHashes = traceForwardHashes;
    }

    @Override
    protected void initChannel(Channel ch) {
        addStages(ch.pipeline(), worker, tables, blocklist, unknownSources, roaming, hubLinks, traceForwardHashes);
    }

    /** The stages without roaming: unknown sources go to {@code unknownSources}. For tests. */
    public static void addStages(
            ChannelPipeline p,
            WorkerState worker,
            ForwardingTableHolder tables,
            Blocklist blocklist,
            UnknownSourcePolicy unknownSources,
            boolean traceForwardHashes) {
        addStages(p, worker, tables, blocklist, unknownSources, null, traceForwardHashes);
    }

    /** The stages of a relay without hub links. For tests. */
    public static void addStages(
            ChannelPipeline p,
            WorkerState worker,
            ForwardingTableHolder tables,
            Blocklist blocklist,
            UnknownSourcePolicy unknownSources,
            LinkedSourceWatch roaming,
            boolean traceForwardHashes) {
        addStages(p, worker, tables, blocklist, unknownSources, roaming, false, traceForwardHashes);
    }

    /** Adds the stages in SPEC's order; also used by tests on an {@code EmbeddedChannel}. */
    public static void addStages(
            ChannelPipeline p,
            WorkerState worker,
            ForwardingTableHolder tables,
            Blocklist blocklist,
            UnknownSourcePolicy unknownSources,
            LinkedSourceWatch roaming,
            boolean hubLinks,
            boolean traceForwardHashes) {
        p.addLast("rx-counter", new RxCounter(worker));
        p.addLast("blocklist-gate", new BlocklistGate(blocklist, worker)); // rule 1
        p.addLast("shape-filter", new ShapeFilter(worker)); // rule 2
        p.addLast("source-lookup", new SourceLookup(tables, unknownSources, worker)); // rule 3
        p.addLast("link-lookup", new LinkLookup(worker)); // rule 4
        if (hubLinks) {
            p.addLast("hub-router", new HubRouter(worker, roaming instanceof UnidentifiedClaim m ? m : null)); // B
        }
        p.addLast("mac1-verifier", new Mac1Verifier(worker)); // rule 5
        if (hubLinks) {
            p.addLast("session-learner", new SessionLearner(worker)); // B: the session index
        }
        if (roaming != null) {
            p.addLast("roaming-watch", new RoamingWatch(roaming, worker)); // rules 8, 9, voiding
        }
        if (traceForwardHashes) {
            p.addLast("trace-hasher", new TraceHasher()); // rule 6 and 7's egress line
        }
        p.addLast("forwarder", new Forwarder(worker)); // rule 7
        p.addLast("io-error-log", new IoErrorLog(worker));
    }
}
