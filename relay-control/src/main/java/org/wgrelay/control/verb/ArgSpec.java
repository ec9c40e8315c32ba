package org.wgrelay.control.verb;

/**
 * One argument of a verb.
 *
 * @param rest true for a last argument that takes all remaining words, joined by one
 *     space (a label typed without quotes)
 */
public record ArgSpec(String name, boolean required, String description, boolean rest) {

    public static ArgSpec required(String name, String description) {
        return new ArgSpec(name, true, description, false);
    }

    public static ArgSpec optional(String name, String description) {
        return new ArgSpec(name, false, description, false);
    }

    public static ArgSpec optionalRest(String name, String description) {
        return new ArgSpec(name, false, description, true);
    }
}
