package org.wgrelay.control.verb;

import java.util.Locale;

/** Who may run a verb: anyone connected ({@code read}) or the operator (token, when set). */
public enum Role {
    READ,
    OPERATOR;

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
