package org.wgrelay.server.table;

/**
 * The one place the current forwarding table is published. The roster's single writer
 * calls {@link #publish}; workers call {@link #current} once per packet. A volatile
 * read is all a worker pays: no lock, and a table is never changed after publication.
 */
public final class ForwardingTableHolder {
    private volatile ForwardingTable current;

    public ForwardingTableHolder(ForwardingTable initial) {
        this.current = initial;
    }

    public ForwardingTable current() {
        return current;
    }

    public void publish(ForwardingTable table) {
        current = table;
    }
}
