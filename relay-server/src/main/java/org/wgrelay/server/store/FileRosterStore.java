package org.wgrelay.server.store;

import java.net.InetAddress;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterFile;
import org.wgrelay.server.roster.RosterFileException;
import org.wgrelay.server.roster.RosterOutcome;

/**
 * The default store: the roster file, rewritten atomically before each change becomes live;
 * the blocklist lives in this relay only. A change is validated, written and installed in
 * one step on the writer thread, so nothing interleaves with it.
 */
public final class FileRosterStore implements RosterStore {
    private static final Logger LOG = LoggerFactory.getLogger(FileRosterStore.class);
    private static final StoreStatus STATUS = new StoreStatus("file", null, null, true, 0, 0);

    private final RosterFile file;
    private final Blocklist blocklist;
    private final LongSupplier clockMillis;
    private final Supplier<RelayInfo> self;
    private volatile AppliedRoster target;

    /** @param self this relay, for {@code wg relay list} (null: none listed) */
    public FileRosterStore(RosterFile file, Blocklist blocklist, LongSupplier clockMillis, Supplier<RelayInfo> self) {
        this.file = file;
        this.blocklist = blocklist;
        this.clockMillis = clockMillis;
        this.self = self;
    }

    public RosterFile file() {
        return file;
    }

    @Override
    public String kind() {
        return "file";
    }

    @Override
    public void attach(AppliedRoster target) {
        this.target = target;
    }

    @Override
    public void start() {}

    @Override
    public RosterChange apply(Function<Roster, RosterChange> change) {
        AppliedRoster t = target;
        Roster before = t.current();
        try {
            return t.callOnWriter(() -> applyHere(t, change));
        } catch (StoreUnavailableException e) {
            return new RosterChange(RosterOutcome.PERSIST_FAILED, e.getMessage(), before);
        }
    }

    private synchronized RosterChange applyHere(AppliedRoster t, Function<Roster, RosterChange> change) {
        Roster before = t.current();
        RosterChange result = change.apply(before);
        if (!result.ok() || result.roster().equals(before)) {
            return result;
        }
        try {
            file.write(result.roster());
        } catch (RosterFileException e) {
            LOG.error("roster change not applied: {}", e.getMessage());
            return new RosterChange(
                    RosterOutcome.PERSIST_FAILED,
                    "the roster could not be saved, nothing changed: " + e.getMessage(),
                    before);
        }
        t.install(result.roster(), result.message());
        return result;
    }

    @Override
    public RosterChange relearn(String peer, Endpoint endpoint) {
        return applyHere(target, r -> r.updateEndpoint(peer, endpoint));
    }

    @Override
    public void block(InetAddress ip, long seconds, int totalStrikes) {
        blocklist.block(ip, clockMillis.getAsLong() + seconds * 1000, totalStrikes);
    }

    @Override
    public boolean unblock(InetAddress ip) {
        return blocklist.unblock(ip);
    }

    @Override
    public void shareStrikeBlock(InetAddress ip, long seconds, int totalStrikes) {
        // one relay: the caller's block is all there is
    }

    @Override
    public StoreStatus status() {
        return STATUS;
    }

    @Override
    public List<RelayInfo> relays() {
        RelayInfo me = self == null ? null : self.get();
        return me == null ? List.of() : List.of(me);
    }

    @Override
    public void close() {}
}
