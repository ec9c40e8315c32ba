package org.wgrelay.server.pipeline;

import org.wgrelay.server.table.Partner;

/**
 * The {@link HubRouter}'s seam to roaming (SPEC B, spokes roam): a hub's handshake response
 * whose receiver index equals an unidentified candidate's sender index identifies that
 * candidate — an initiation from an unknown source whose MAC1 named the hub — whether or not
 * the session index also knows the index (a replay of an initiation the relay forwarded
 * before is known to the index and still answered by a hub that never saw it). Runs on the
 * worker; must not block.
 */
@FunctionalInterface
public interface UnidentifiedClaim {
    /**
     * The hub's partner this response is for, when it answers an unidentified candidate of
     * the hub and its MAC1 names exactly one partner; null otherwise.
     */
    Partner claim(Datagram response, int receiverIndex, WorkerState worker);
}
