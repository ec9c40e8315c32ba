package org.wgrelay.server.handover;

/**
 * What a {@link HandoverSession} needs of the listener that accepted it: the one takeover slot
 * and the listening socket. {@link HandoverListener} is the real one; tests give a fake.
 */
interface HandoverSlot {
    /** Claims the one takeover slot; false while another takeover is under way. */
    boolean claim();

    void release();

    /** Stops listening (removing the socket file); idempotent. */
    void stopListening();

    /** Listens again after {@link #stopListening}; false if it cannot. */
    boolean relisten();
}
