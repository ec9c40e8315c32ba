package org.wgrelay.server.store;

import org.wgrelay.server.roster.Endpoint;

/**
 * SPEC C's key layout under the prefix: {@code peers/<name>}, {@code endpoints/<ip:port>},
 * {@code links/<a>/<b>} with {@code a < b}, {@code blocklist/<ip>}, {@code relays/<relay-id>}.
 * Keys here are relative to the prefix; {@link #absolute} adds it. Peer names cannot hold a
 * slash (RosterNames), so a link key splits unambiguously.
 */
public final class StoreKeys {
    public static final String PEERS = "peers/";
    public static final String ENDPOINTS = "endpoints/";
    public static final String LINKS = "links/";
    public static final String BLOCKLIST = "blocklist/";
    public static final String RELAYS = "relays/";
    /** Ours beyond SPEC's layout: each verb's transaction fence, on a 3 s lease (see the store). */
    public static final String FENCES = "fences/";

    private final String prefix;

    /** @param prefix {@code --etcd-prefix}; a trailing slash is added when missing */
    public StoreKeys(String prefix) {
        this.prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    }

    public String prefix() {
        return prefix;
    }

    public String absolute(String relative) {
        return prefix + relative;
    }

    /** The key relative to the prefix, or null for a key outside it. */
    public String relative(String absolute) {
        return absolute.startsWith(prefix) ? absolute.substring(prefix.length()) : null;
    }

    public static String peer(String name) {
        return PEERS + name;
    }

    public static String endpoint(Endpoint endpoint) {
        return ENDPOINTS + endpoint;
    }

    /** The link's key with its names in order, whichever order they are given in. */
    public static String link(String a, String b) {
        return a.compareTo(b) < 0 ? LINKS + a + "/" + b : LINKS + b + "/" + a;
    }

    public static String blocklist(String ipText) {
        return BLOCKLIST + ipText;
    }

    public static String fence(String relayId) {
        return FENCES + relayId;
    }

    public static String relay(String id) {
        return RELAYS + id;
    }

    /** The two names of a link key, or null when it is not one. */
    public static String[] linkNames(String relative) {
        if (!relative.startsWith(LINKS)) {
            return null;
        }
        String[] ab = relative.substring(LINKS.length()).split("/", -1);
        return ab.length == 2 && !ab[0].isEmpty() && !ab[1].isEmpty() ? ab : null;
    }
}
