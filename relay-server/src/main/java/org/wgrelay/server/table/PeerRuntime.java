package org.wgrelay.server.table;

import java.util.Base64;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.wire.Mac1;

/**
 * What lives as long as a peer, across forwarding-table rebuilds: its counters, its
 * roaming slot, and the MAC1 key of its stamped public key (derived once per key, when
 * the key is stamped — never per packet).
 */
public final class PeerRuntime {
    private final PeerStats stats;
    private final RoamingSlot roaming = new RoamingSlot();
    private String keyedFor;
    private byte[] mac1Key;

    public PeerRuntime(PeerStats stats) {
        this.stats = stats;
    }

    public PeerStats stats() {
        return stats;
    }

    public RoamingSlot roaming() {
        return roaming;
    }

    /** The MAC1 key for {@code pubkeyBase64} (null for none), derived only when the key changes. */
    public synchronized byte[] mac1Key(String pubkeyBase64) {
        if (pubkeyBase64 == null) {
            return null;
        }
        if (!pubkeyBase64.equals(keyedFor)) {
            mac1Key = Mac1.keyFor(Base64.getDecoder().decode(pubkeyBase64));
            keyedFor = pubkeyBase64;
        }
        return mac1Key;
    }
}
