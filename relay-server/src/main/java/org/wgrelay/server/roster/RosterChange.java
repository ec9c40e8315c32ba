package org.wgrelay.server.roster;

/**
 * The result of asking the roster for a change: an outcome, a sentence for a human,
 * and the roster after the change (the unchanged roster when the outcome is not OK).
 */
public record RosterChange(RosterOutcome outcome, String message, Roster roster) {

    public boolean ok() {
        return outcome == RosterOutcome.OK;
    }

    static RosterChange ok(Roster roster, String message) {
        return new RosterChange(RosterOutcome.OK, message, roster);
    }

    static RosterChange rejected(Roster unchanged, RosterOutcome outcome, String message) {
        return new RosterChange(outcome, message, unchanged);
    }
}
