package org.wgrelay.server.pipeline;

import org.wgrelay.server.table.Partner;

/**
 * The {@link HubRouter}'s seam to roaming (SPEC B, spokes roam): a hub's handshake response
 * whose receiver index the session index does not know may answer an unidentified
 * candidate, an initiation from an unknown source whose MAC1 named the hub. Runs on the
 * worker; must not block.
 */
@FunctionalInterface
public interface HubIndexMiss {
    /**
     * The hub's partner this response is for, when it answers an unidentified candidate of
     * the hub and its MAC1 names exactly one partner; null otherwise.
     */
    Partner claim(Datagram response, int receiverIndex, WorkerState worker);
}
