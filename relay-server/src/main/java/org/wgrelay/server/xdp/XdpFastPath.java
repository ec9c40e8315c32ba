package org.wgrelay.server.xdp;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roaming.RoamingEngine;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterListener;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.xdp.AbiLayout;
import org.wgrelay.xdp.AttachResult;
import org.wgrelay.xdp.HelperChannel;
import org.wgrelay.xdp.MapSync;
import org.wgrelay.xdp.XdpNic;
import org.wgrelay.xdp.XdpState;
import org.wgrelay.xdp.XdpStats;

/**
 * The XDP fast path of a running relay: attaches the program to the configured NICs
 * through the helper, keeps the BPF maps in step with the forwarding table, roaming
 * candidates and blocklist (a sync on every change, and once a second), and polls the
 * program's counters once a second and whenever {@code wg show}, {@code wg peer list} or
 * {@code /metrics} reads them ({@link #pollCountsNow}).
 *
 * <p>Threads: all helper traffic happens on one thread ({@code wg-relay-xdp}); the
 * listeners only schedule a sync. Userspace remains correct for everything the program
 * passes up, so a slow sync costs speed, never correctness — except that rule 9 needs
 * the partner's data, which a sync sends up within a moment of a candidate's answer.
 */
public final class XdpFastPath implements RosterListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(XdpFastPath.class);
    /** How long a reader waits for an on-demand poll: one helper round trip, normally a millisecond. */
    static final long POLL_WAIT_MILLIS = 2_000;

    private final XdpLauncher launcher;
    private volatile HelperChannel helper;
    private final int relayPort;
    private final ForwardingTableHolder tables;
    private final Blocklist blocklist;
    private final LongSupplier clockMillis;
    private volatile MapSync sync;
    private final KernelCounts kernel;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "wg-relay-xdp");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean syncQueued = new AtomicBoolean();
    private final Map<String, XdpNic> nics = new LinkedHashMap<>();
    private final Map<String, String> modes = new LinkedHashMap<>();
    private List<String> interfaces = List.of();
    private XdpMode requested = XdpMode.DRV;
    private volatile boolean attached;
    /** The table the maps were last synced to: per-peer kernel counts belong to its endpoints. */
    private ForwardingTable projected = ForwardingTable.EMPTY;
    private long nextRestartMillis;
    private volatile long failedBeforeRestart;

    public XdpFastPath(XdpLauncher launcher, HelperChannel helper, int relayPort, ForwardingTableHolder tables,
            Blocklist blocklist, RoamingEngine roaming, RelayCounters counters, LongSupplier clockMillis) {
        this.launcher = launcher;
        this.helper = helper;
        this.relayPort = relayPort;
        this.tables = tables;
        this.blocklist = blocklist;
        this.clockMillis = clockMillis;
        this.sync = new MapSync(helper);
        this.kernel = new KernelCounts(counters);
        blocklist.addListener(this::requestSync);
        roaming.addListener(this::requestSync);
    }

    /**
     * Attaches to every NIC; stops at the first failure and returns its result (the caller
     * logs SPEC's {@code xdp_attach_failed} line and refuses to start). Null on success.
     */
    public AttachResult attach(List<String> interfaces, XdpMode requested) throws IOException {
        this.interfaces = List.copyOf(interfaces);
        this.requested = requested;
        AttachResult failed = attachAll(helper);
        if (failed != null) {
            return failed;
        }
        attached = true;
        syncNow();
        thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        return null;
    }

    /** Checks the ABI and attaches every NIC through {@code h}; the first failure, or null. */
    private AttachResult attachAll(HelperChannel h) throws IOException {
        Map<String, String> drift = AbiLayout.mismatches(AbiLayout.parse(h.callMulti("abi")));
        if (!drift.isEmpty()) {
            throw new IOException("the XDP helper's struct layout differs from ours: " + drift);
        }
        for (String nic : interfaces) {
            AttachResult r = AttachResult.parse(h.call("attach " + nic + " " + requested.word()));
            if (!r.ok()) {
                return r;
            }
            if (r.fallback() != null) {
                LOG.info("xdp auto mode on {}: native attach failed ({}), using skb", nic, r.fallback());
            }
            LOG.info(r.logLine());
            modes.put(nic, r.mode());
            nics.put(nic, describe(nic, r.ifindex()));
        }
        return null;
    }

    @Override
    public void rosterChanged(Roster before, RosterChange change) {
        requestSync();
    }

    /** The achieved attach mode: {@code skb} if any NIC runs in generic mode, else {@code drv}. */
    public String mode() {
        return modes.containsValue("skb") ? "skb" : modes.isEmpty() ? "off" : "drv";
    }

    /** False while the helper is dead and being restarted (userspace handles everything then). */
    public boolean attached() {
        return attached;
    }

    /** SPEC's {@code xdp_*} keys of {@code wg show}: kernel totals since the relay started. */
    public Map<String, Long> xdpKeys() {
        return kernel.xdpKeys();
    }

    /**
     * Polls the program's counters now, on the XDP thread, and waits for the poll (at most
     * {@link #POLL_WAIT_MILLIS}): {@code wg show}, {@code wg peer list} and {@code /metrics}
     * call this before they read, so what they report includes everything the kernel had
     * counted when they were asked, not only what the last periodic poll folded in. Also a
     * test's way to know that all kernel counts are in. A poll that does not finish in time
     * (the helper hung) leaves the counts as the last poll left them.
     */
    public void pollCountsNow() {
        if (!attached) {
            return;
        }
        try {
            thread.submit(() -> {
                if (attached) {
                    foldKernelCounts();
                }
            }).get(POLL_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            LOG.debug("on-demand XDP counter poll did not complete: {}", e.toString());
        }
    }

    /** Map writes that failed since start, across helper restarts. */
    public long failedMapWrites() {
        return failedBeforeRestart + sync.failedWrites();
    }

    private void requestSync() {
        if (syncQueued.compareAndSet(false, true)) {
            thread.execute(() -> {
                syncQueued.set(false);
                syncNow();
            });
        }
    }

    private void tick() {
        if (!attached || !helper.alive()) {
            restartHelper();
            return;
        }
        syncNow();
        foldKernelCounts();
    }

    /** Adds what the program counted since the last poll, per peer as the maps have them. */
    private void foldKernelCounts() {
        try {
            kernel.fold(XdpStats.parse(helper.callMulti("stats")), projected, clockMillis.getAsLong());
        } catch (IOException e) {
            LOG.warn("reading XDP counters failed: {}", e.getMessage());
        }
    }

    /**
     * The helper died (its exit detached the program, so userspace carries all traffic
     * now, correctly): report detached, and start and attach a new one, retrying every
     * few seconds. A new helper has empty maps: full resync.
     */
    private void restartHelper() {
        long now = System.currentTimeMillis();
        if (attached) {
            attached = false;
            LOG.error("the XDP helper exited; the fast path is detached and userspace forwards everything"
                    + " until a new helper is attached");
        }
        if (now < nextRestartMillis) {
            return;
        }
        nextRestartMillis = now + 5_000;
        helper.close();
        try {
            HelperChannel fresh = launcher.open();
            AttachResult failed = attachAll(fresh);
            if (failed != null) {
                fresh.close();
                LOG.error("re-attaching the XDP program failed: {}", failed.logLine());
                return;
            }
            helper = fresh;
            failedBeforeRestart += sync.failedWrites();
            sync = new MapSync(fresh);
            kernel.helperRestarted();
            attached = true;
            syncNow();
            LOG.info("XDP helper restarted and re-attached");
        } catch (IOException e) {
            LOG.error("restarting the XDP helper failed: {}", e.getMessage());
        }
    }

    private void syncNow() {
        try {
            ForwardingTable table = tables.current();
            XdpState want = XdpProjection.project(relayPort, nics, table, blocklist, clockMillis.getAsLong());
            // An entry's counts go with it: take them while the maps and the table they
            // were synced to still agree on whose they are (a move, an unlink, a resync).
            Set<String> removed = sync.peersRemovedBy(want);
            if (!removed.isEmpty()) {
                foldKernelCounts();
            }
            // After a failed write an entry may still be in the map with its counts: keep
            // measuring it from the last poll rather than risk counting it twice.
            if (sync.apply(want)) {
                kernel.entriesRemoved(removed);
            }
            projected = table;
        } catch (RuntimeException e) {
            LOG.error("XDP map sync failed", e);
            sync.reset();
        }
    }

    /** Reads a NIC's IPv4 address and MAC in the relay's network namespace. */
    private static XdpNic describe(String name, int ifindex) throws IOException {
        NetworkInterface nif;
        try {
            nif = NetworkInterface.getByName(name);
        } catch (SocketException e) {
            throw new IOException("cannot read interface " + name + ": " + e.getMessage(), e);
        }
        if (nif == null) {
            throw new IOException("interface " + name + " vanished after the attach");
        }
        String ip = null;
        for (Enumeration<InetAddress> a = nif.getInetAddresses(); a.hasMoreElements(); ) {
            InetAddress addr = a.nextElement();
            if (addr instanceof Inet4Address) {
                ip = addr.getHostAddress();
                break;
            }
        }
        if (ip == null) {
            throw new IOException("interface " + name + " has no IPv4 address for the fast path to send from");
        }
        byte[] mac = nif.getHardwareAddress();
        String macText = mac == null ? readMac(name) : format(mac);
        return new XdpNic(name, ifindex, ip, macText);
    }

    private static String readMac(String name) throws IOException {
        return Files.readString(Path.of("/sys/class/net", name, "address")).strip();
    }

    private static String format(byte[] mac) {
        StringBuilder sb = new StringBuilder();
        for (byte b : mac) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    /** Stops syncing and closes the helper, which detaches the program from every NIC. */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        helper.close();
    }
}
