package org.wgrelay.control.verb;

import java.util.List;
import org.wgrelay.control.protocol.ControlException;

/**
 * Carries out one verb, with the argument count already checked against the verb's spec.
 * An operator verb is called on the control writer thread, one at a time across all
 * connections; a read verb on one of the reader threads, beside other reads and beside the
 * operator verb in progress, so it must only read what is safe to read from any thread
 * (published snapshots, synchronised state).
 * Returns the {@code result} object (serialised with Jackson); says no by throwing a
 * {@link ControlException} — and then must have changed nothing.
 */
@FunctionalInterface
public interface VerbHandler {
    Object handle(List<String> args) throws ControlException;
}
