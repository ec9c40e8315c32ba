package org.wgrelay.control.verb;

import java.util.List;
import org.wgrelay.control.protocol.ControlException;

/**
 * Carries out one verb. Called on the control executor, one request at a time across
 * all connections, with the argument count already checked against the verb's spec.
 * Returns the {@code result} object (serialised with Jackson); says no by throwing a
 * {@link ControlException} — and then must have changed nothing.
 */
@FunctionalInterface
public interface VerbHandler {
    Object handle(List<String> args) throws ControlException;
}
