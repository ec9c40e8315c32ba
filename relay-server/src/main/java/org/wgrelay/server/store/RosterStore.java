package org.wgrelay.server.store;

import java.net.InetAddress;
import java.util.List;
import java.util.function.Function;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;

/**
 * Where the roster and the shared blocklist live: the roster file (one relay, the default)
 * or etcd (a fleet, SPEC C). Control verbs, roaming commits and blocklist entries all go
 * through here, whichever store it is; the store decides when a change becomes live and
 * makes it live through {@link AppliedRoster#install}.
 */
public interface RosterStore extends AutoCloseable {
    /** {@code file} or {@code etcd}, as {@code wg show} names it. */
    String kind();

    /** Binds the store to the roster it serves (the roster service does this as it is built). */
    void attach(AppliedRoster target);

    /**
     * Begins serving: the file store has nothing to do; the etcd store starts connecting in
     * the background (once the relay's listeners are in place). Never waits on the network.
     */
    void start();

    /**
     * A control verb's change: validated against the store's state, made durable, live on
     * this relay when this returns. Rejections carry SPEC's outcome; an unreachable store
     * answers {@link org.wgrelay.server.roster.RosterOutcome#STORE_UNAVAILABLE}. Never call it
     * on the writer thread (the etcd store waits there for its own watch).
     */
    RosterChange apply(Function<Roster, RosterChange> change);

    /**
     * Rule 9: a confirmed roam. Writer thread only; live in the forwarding table when this
     * returns, made durable as the store can (etcd: a transaction that may lose to another
     * relay's change, after which the stored state is taken).
     */
    RosterChange relearn(String peer, Endpoint endpoint);

    /**
     * An operator's block: live on this relay when it returns (and, with etcd, on every relay
     * soon after). Throws {@link StoreUnavailableException} when the store cannot take it.
     */
    void block(InetAddress ip, long seconds, int totalStrikes);

    /** An operator's unblock; false when the IP was not listed. Throws as {@link #block}. */
    boolean unblock(InetAddress ip);

    /**
     * Strikes escalated to a block (rule 9's voided candidates), which the caller has already
     * made live in this relay's blocklist: shared with the fleet as the store can (the file
     * store has no one to tell). Owner thread; never waits.
     */
    void shareStrikeBlock(InetAddress ip, long seconds, int totalStrikes);

    /** The store's state for {@code wg show}, {@code /readyz} and the metrics. */
    StoreStatus status();

    /** The live relays ({@code wg relay list}); the file store knows only this one. */
    List<RelayInfo> relays();

    @Override
    void close();
}
