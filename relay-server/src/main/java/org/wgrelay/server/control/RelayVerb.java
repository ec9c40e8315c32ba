package org.wgrelay.server.control;

import org.wgrelay.control.verb.VerbHandler;
import org.wgrelay.control.verb.VerbSpec;

/** A control verb this relay serves: its catalogue spec and its handler, in one class. */
public interface RelayVerb extends VerbHandler {
    VerbSpec spec();
}
