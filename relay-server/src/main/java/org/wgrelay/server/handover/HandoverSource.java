package org.wgrelay.server.handover;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The running relay as its handover listener sees it: the sockets it can hand over and
 * the two steps of letting go. Implemented by the daemon.
 */
public interface HandoverSource {
    /** A socket offered to the new relay: its role and this process's descriptor for it. */
    record OfferedSocket(SocketRole role, int fd) {}

    /** The sockets to hand over, the workers' first in worker order. */
    List<OfferedSocket> sockets();

    /**
     * The new relay reads the sockets: stop reading them, stop accepting on the listeners,
     * let the queued sends leave, and return the final counters ({@link CounterTransfer}).
     * Blocks; called on a thread of its own.
     */
    ObjectNode stopServing(long newPid) throws InterruptedException;

    /** The new relay went away after {@link #stopServing}: read and accept again. */
    void resumeServing();

    /** The new relay has taken over: log it and exit 0. */
    void handedOver(long newPid);
}
