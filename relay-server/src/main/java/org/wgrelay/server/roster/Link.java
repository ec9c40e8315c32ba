package org.wgrelay.server.roster;

/**
 * A link between two peers, in the order it was declared. A link is unordered for
 * every lookup ({@link #joins}); the order only keeps the roster file stable.
 */
public record Link(String a, String b) {

    /** True when this link joins exactly these two names, in either order. */
    public boolean joins(String x, String y) {
        return (a.equals(x) && b.equals(y)) || (a.equals(y) && b.equals(x));
    }

    public boolean involves(String name) {
        return a.equals(name) || b.equals(name);
    }

    /** The other end of the link, given one end. */
    public String partnerOf(String name) {
        return a.equals(name) ? b : a;
    }
}
