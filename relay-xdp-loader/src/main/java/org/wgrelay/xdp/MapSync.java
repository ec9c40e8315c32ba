package org.wgrelay.xdp;

import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the BPF maps a projection of userspace's model: remembers what it pushed and
 * sends only the difference to each new {@link XdpState}, each peer write carrying a
 * generation number. The hubs' sessions are brought up to date before any peer entry
 * changes: a hub's entry is flagged only once its sessions are in (no burst of its data
 * passed up for want of them), and a session never outlives in the maps the spoke it
 * names (the program needs no peer entry to forward to a session's owner). A failed write is counted and logged (rate-limited), and the next
 * {@link #apply} starts with a full resync — as does the first, and the first after
 * {@link #reset} (a restarted helper).
 *
 * <p>A resync reads the maps back ({@code dump}) and writes the difference: the maps of a
 * fresh program are empty, so that writes everything, while those of a program kept by an
 * earlier relay and adopted keep their entries — an entry the model still has is not
 * touched (its route cache and counters go on, the kernel keeps forwarding), one it lost is
 * taken out. A helper that cannot dump gets {@code clear} and everything written again.
 *
 * <p>Not thread-safe: one thread (the XDP sync thread) owns it.
 */
public final class MapSync {
    private static final Logger LOG = LoggerFactory.getLogger(MapSync.class);
    private static final long LOG_INTERVAL_MILLIS = 10_000;

    private final HelperChannel helper;
    private final LongSupplier clockMillis;
    private final AtomicLong failedWrites = new AtomicLong();
    private XdpState pushed = XdpState.EMPTY;
    private boolean needsResync = true;
    /** The maps as read back for the coming resync; null until read, or when they could not be. */
    private XdpState readBack;

    private boolean readBackTried;
    private long generation;
    private long nextLogMillis;

    /** @param clockMillis the clock the failure log is rate-limited by */
    public MapSync(HelperChannel helper, LongSupplier clockMillis) {
        this.helper = helper;
        this.clockMillis = clockMillis;
    }

    /** Map writes the kernel refused or the helper did not answer, since start. */
    public long failedWrites() {
        return failedWrites.get();
    }

    public long generation() {
        return generation;
    }

    /** Forget what was pushed: the next apply reads the maps back and resyncs them. */
    public void reset() {
        needsResync = true;
        readBack = null;
        readBackTried = false;
    }

    /**
     * The peer entries (by {@link XdpPeer#key()}) that {@link #apply}ing {@code want} would
     * take out of the maps — an unpeer; on a resync, each entry the maps hold that
     * {@code want} lacks, or all of them when the maps cannot be read back and are cleared — and with
     * each, the program's count of what it forwarded for that endpoint since the last
     * poll: the caller polls first, and forgets those entries' counts after the apply (a
     * re-added entry counts from 0 again).
     */
    public Set<String> peersRemovedBy(XdpState want) {
        XdpState have = pushed;
        if (needsResync) {
            have = resyncBase();
            if (have == null) {
                return Set.copyOf(pushed.peers().keySet()); // cleared: every entry goes
            }
        }
        Set<String> gone = new HashSet<>(have.peers().keySet());
        gone.removeAll(want.peers().keySet());
        return Set.copyOf(gone);
    }

    /** Brings the maps to {@code want}; returns true when every write succeeded. */
    public boolean apply(XdpState want) {
        generation++;
        boolean ok = true;
        XdpState have = pushed;
        if (needsResync) {
            have = resyncBase();
            if (have == null) {
                ok &= send("clear");
                have = XdpState.EMPTY;
            }
            readBack = null;
            readBackTried = false;
        }
        if (want.relayPort() != have.relayPort()) {
            ok &= send("config " + want.relayPort());
        }
        for (Map.Entry<Integer, XdpNic> e : have.nics().entrySet()) {
            if (!want.nics().containsKey(e.getKey())) {
                ok &= send("unnic " + e.getKey());
            }
        }
        for (XdpNic nic : want.nics().values()) {
            if (!nic.equals(have.nics().get(nic.ifindex()))) {
                ok &= send("nic " + nic.ifindex() + " " + nic.ip() + " " + nic.mac());
            }
        }
        for (XdpSession s : have.sessions().values()) {
            if (!want.sessions().containsKey(s.key())) {
                ok &= send("unsession " + s.key());
            }
        }
        for (XdpSession s : want.sessions().values()) {
            if (!s.equals(have.sessions().get(s.key()))) {
                ok &= send("session " + s.key() + " " + s.ownerIp() + " " + s.ownerPort() + " " + s.egressIfindex());
            }
        }
        for (XdpPeer p : have.peers().values()) {
            if (!want.peers().containsKey(p.key())) {
                ok &= send("unpeer " + p.ip() + " " + p.port());
            }
        }
        // Peers before blocks: an entry must carry its block-check flag before its IP's
        // blocklist entry exists, or the program would not look that entry up.
        for (XdpPeer p : want.peers().values()) {
            if (!p.equals(have.peers().get(p.key()))) {
                ok &= send("peer " + p.ip() + " " + p.port() + " " + p.partnerIp() + " " + p.partnerPort() + " "
                        + p.egressIfindex() + " " + p.flags() + " " + (generation & 0xffffffffL));
            }
        }
        for (String ip : have.blocklist().keySet()) {
            if (!want.blocklist().containsKey(ip)) {
                ok &= send("unblock " + ip);
            }
        }
        for (Map.Entry<String, Long> e : want.blocklist().entrySet()) {
            if (!have.blocklist().containsKey(e.getKey())) {
                ok &= send("block " + e.getKey() + " " + e.getValue());
            }
        }
        pushed = want;
        needsResync = !ok;
        return ok;
    }

    /** The maps read back for a resync (once per resync), or null when the helper cannot dump them. */
    private XdpState resyncBase() {
        if (!readBackTried) {
            readBackTried = true;
            try {
                readBack = MapDump.parse(helper.callMulti("dump"));
            } catch (IOException | RuntimeException e) {
                LOG.warn("reading the XDP maps back failed ({}); clearing them to resync", e.getMessage());
                readBack = null;
            }
        }
        return readBack;
    }

    private boolean send(String command) {
        String answer;
        try {
            answer = helper.call(command);
        } catch (IOException e) {
            answer = "err " + e.getMessage();
        }
        if (answer.startsWith("ok")) {
            return true;
        }
        failedWrites.incrementAndGet();
        long now = clockMillis.getAsLong();
        if (now >= nextLogMillis) {
            LOG.warn("XDP map write failed ({} so far): {} -> {}", failedWrites.get(), command, answer);
            nextLogMillis = now + LOG_INTERVAL_MILLIS;
        }
        return false;
    }
}
