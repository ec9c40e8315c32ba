package org.wgrelay.control.verb;

import static org.wgrelay.control.verb.ArgSpec.optionalRest;

import java.util.List;

/**
 * The verbs the control channel itself serves, whatever else a registry holds: {@code help}
 * (answered by {@link VerbRegistry}) and {@code subscribe} (answered by the connection, which
 * it turns into an event stream). Every other verb's spec lives next to the code that runs it,
 * in the application that binds it.
 */
public final class BuiltinVerbs {
    public static final VerbSpec HELP = new VerbSpec(
            "help",
            Role.READ,
            "List every verb, or describe one verb (given as one argument or as words).",
            List.of(optionalRest("verb", "the verb to describe, e.g. \"wg link add\"")));
    public static final VerbSpec SUBSCRIBE = new VerbSpec(
            "subscribe",
            Role.READ,
            "Turn this connection into a stream of state.wg.* events, one JSON object per line.",
            List.of());

    private BuiltinVerbs() {}
}
