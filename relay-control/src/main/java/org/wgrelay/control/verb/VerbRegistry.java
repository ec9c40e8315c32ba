package org.wgrelay.control.verb;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ErrorCodes;

/**
 * The verbs a control server serves: each verb's spec bound to its handler, {@code help}
 * ({@link BuiltinVerbs#HELP}) always among them.
 * Checks argument counts against the spec ({@code missing_arg}, {@code invalid_arg})
 * before a handler runs, joins a trailing rest argument, and answers {@code help}.
 */
public final class VerbRegistry {
    /** A spec with its handler. */
    public record Binding(VerbSpec spec, VerbHandler handler) {}

    private final Map<String, Binding> verbs = new LinkedHashMap<>();

    public VerbRegistry() {
        bind(BuiltinVerbs.HELP, this::help);
    }

    public VerbRegistry bind(VerbSpec spec, VerbHandler handler) {
        if (verbs.putIfAbsent(spec.verb(), new Binding(spec, handler)) != null) {
            throw new IllegalArgumentException("verb bound twice: " + spec.verb());
        }
        return this;
    }

    public Binding find(String verb) {
        return verbs.get(verb);
    }

    public List<VerbSpec> specs() {
        List<VerbSpec> out = new ArrayList<>();
        for (Binding b : verbs.values()) {
            out.add(b.spec());
        }
        return out;
    }

    /** Checks the count against the spec and joins a rest argument; throws on a mismatch. */
    public static List<String> checkArgs(VerbSpec spec, List<String> args) throws ControlException {
        int required = spec.requiredCount();
        if (args.size() < required) {
            String missing = spec.args().get(args.size()).name();
            throw new ControlException(
                    ErrorCodes.MISSING_ARG, "missing argument <" + missing + ">; usage: " + spec.usage());
        }
        int max = spec.args().size();
        if (spec.takesRest() && args.size() > max) {
            List<String> joined = new ArrayList<>(args.subList(0, max - 1));
            joined.add(String.join(" ", args.subList(max - 1, args.size())));
            return joined;
        }
        if (args.size() > max) {
            throw new ControlException(
                    ErrorCodes.INVALID_ARG, "too many arguments (" + args.size() + "); usage: " + spec.usage());
        }
        return args;
    }

    private Object help(List<String> args) throws ControlException {
        if (args.isEmpty()) {
            return Map.of("verbs", specs().stream().map(VerbSpec::toHelp).toList());
        }
        String verb = String.join(" ", args).trim().replaceAll("\\s+", " ");
        Binding b = verbs.get(verb);
        if (b == null) {
            throw new ControlException(ErrorCodes.UNKNOWN_VERB, "no verb '" + verb + "'; 'help' lists them");
        }
        return b.spec().toHelp();
    }
}
