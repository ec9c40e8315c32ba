package org.wgrelay.control.verb;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A verb's name, role, description and arguments: what {@code help} shows. */
public record VerbSpec(String verb, Role role, String description, List<ArgSpec> args) {

    public VerbSpec {
        args = List.copyOf(args);
    }

    /** SPEC's help object: verb, role, description, args [{name, required, description}]. */
    public Map<String, Object> toHelp() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("verb", verb);
        m.put("role", role.word());
        m.put("description", description);
        m.put(
                "args",
                args.stream()
                        .map(a -> {
                            Map<String, Object> am = new LinkedHashMap<>();
                            am.put("name", a.name());
                            am.put("required", a.required());
                            am.put("description", a.description());
                            return am;
                        })
                        .toList());
        return m;
    }

    /** One-line usage, e.g. {@code wg peer add <name> <ip:port> [label...]}. */
    public String usage() {
        StringBuilder sb = new StringBuilder(verb);
        for (ArgSpec a : args) {
            String n = a.rest() ? a.name() + "..." : a.name();
            sb.append(' ').append(a.required() ? "<" + n + ">" : "[" + n + "]");
        }
        return sb.toString();
    }

    public int requiredCount() {
        return (int) args.stream().filter(ArgSpec::required).count();
    }

    public boolean takesRest() {
        return !args.isEmpty() && args.get(args.size() - 1).rest();
    }
}
