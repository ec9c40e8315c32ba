package org.wgrelay.server.roster;

/**
 * Told of every roster change that took effect, after it was persisted and the new
 * forwarding table was published. Called on the roster's writer thread, one change at
 * a time, in order; must not block (hand slow work to another thread).
 */
@FunctionalInterface
public interface RosterListener {
    void rosterChanged(Roster before, RosterChange change);
}
