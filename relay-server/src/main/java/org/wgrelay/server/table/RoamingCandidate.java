package org.wgrelay.server.table;

import org.wgrelay.server.roster.Endpoint;

/**
 * A peer's roaming candidate as the layers below and beside roaming see it: where it is,
 * and whether its fate now hangs on the partner's transport data. The roaming engine
 * owns the real object and its state machine; the table only carries it in the peer's
 * {@link RoamingSlot} so that the forward path reaches it from a route in O(1).
 */
public interface RoamingCandidate {
    /** The source endpoint the candidate was registered from. */
    Endpoint endpoint();

    /**
     * True while the partner has answered the candidate's handshake (or the commit is
     * under way): the partner's transport data decides it (SPEC rule 9), so that data
     * must reach userspace rather than be forwarded in the kernel.
     */
    boolean awaitsPartnerData();
}
