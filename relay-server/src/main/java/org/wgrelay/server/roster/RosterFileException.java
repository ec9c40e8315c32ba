package org.wgrelay.server.roster;

/** A roster file that cannot be read or written; the message names the file and line. */
public final class RosterFileException extends Exception {
    public RosterFileException(String message) {
        super(message);
    }

    public RosterFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
