package org.wgrelay.server.roster;

import java.util.Base64;
import java.util.regex.Pattern;

/**
 * What the roster accepts as a peer name, label, NIC name and public key. Names are
 * single whitespace-free tokens so that the line-based roster file stays unambiguous.
 */
public final class RosterNames {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** Linux interface names: at most 15 bytes, no slash or whitespace. */
    private static final Pattern NIC = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,14}");

    public static final int MAX_LABEL_LENGTH = 200;
    public static final int PUBKEY_LENGTH = 32;

    private RosterNames() {}

    /** Null if valid, else a sentence saying why not. */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            return "peer name '" + printable(name)
                    + "' must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit";
        }
        return null;
    }

    public static String checkNic(String nic) {
        if (nic == null || !NIC.matcher(nic).matches()) {
            return "'" + printable(nic) + "' is not a network interface name (1-15 characters, no spaces or slashes)";
        }
        return null;
    }

    /**
     * Labels are free text on one line: control characters are refused and runs of
     * white space fold to one space (the roster file is whitespace-separated).
     * Returns the normalised label, or null for an empty one.
     */
    public static String normaliseLabel(String label) {
        if (label == null) {
            return null;
        }
        String folded = label.strip().replaceAll("\\s+", " ");
        return folded.isEmpty() ? null : folded;
    }

    public static String checkLabel(String label) {
        if (label == null) {
            return null;
        }
        if (label.length() > MAX_LABEL_LENGTH) {
            return "label is longer than " + MAX_LABEL_LENGTH + " characters";
        }
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            // Tab, line breaks, vertical tab and form feed fold to a space; every other
            // control character (including U+001C..U+001F, which Java calls white space) is refused.
            boolean foldable = c == '\t' || c == '\n' || c == '\r' || c == '\u000B' || c == '\f';
            if (Character.isISOControl(c) && !foldable) {
                return "label contains a control character";
            }
        }
        return null;
    }

    /** The canonical base64 of a 32-byte key, or null if {@code text} is not one. */
    public static String canonicalPubkey(String text) {
        if (text == null) {
            return null;
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
        return raw.length == PUBKEY_LENGTH ? Base64.getEncoder().encodeToString(raw) : null;
    }

    public static String printable(String s) {
        if (s == null) {
            return "";
        }
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
