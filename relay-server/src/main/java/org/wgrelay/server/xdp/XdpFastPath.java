package org.wgrelay.server.xdp;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.roaming.RoamingEngine;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.roster.RosterListener;
import org.wgrelay.server.server.XdpMode;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.xdp.AbiLayout;
import org.wgrelay.xdp.AttachResult;
import org.wgrelay.xdp.HelperChannel;
import org.wgrelay.xdp.MapSync;
import org.wgrelay.xdp.XdpNic;
import org.wgrelay.xdp.XdpStats;

/**
 * The XDP fast path of a running relay: attaches the program to the configured NICs
 * through the helper, keeps the BPF maps in step with the forwarding table, roaming
 * candidates and blocklist (a sync on every change, and once a second), and polls the
 * program's counters for {@code wg show}, {@code wg peer list} and {@code /metrics}.
 *
 * <p>Threads: all helper traffic happens on one thread ({@code wg-relay-xdp}); the
 * listeners only schedule a sync. Userspace remains correct for everything the program
 * passes up, so a slow sync costs speed, never correctness — except that rule 9 needs
 * the partner's data, which a sync sends up within a moment of a candidate's answer.
 */
public final class XdpFastPath implements RosterListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(XdpFastPath.class);

    private final HelperChannel helper;
    private final int relayPort;
    private final ForwardingTableHolder tables;
    private final Blocklist blocklist;
    private final LongSupplier clockMillis;
    private final MapSync sync;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "wg-relay-xdp");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean syncQueued = new AtomicBoolean();
    private final Map<String, XdpNic> nics = new LinkedHashMap<>();
    private final List<AttachResult> attached = new ArrayList<>();
    private volatile XdpStats stats = XdpStats.EMPTY;
    private volatile String mode = "off";

    public XdpFastPath(HelperChannel helper, int relayPort, ForwardingTableHolder tables, Blocklist blocklist,
            RoamingEngine roaming, LongSupplier clockMillis) {
        this.helper = helper;
        this.relayPort = relayPort;
        this.tables = tables;
        this.blocklist = blocklist;
        this.clockMillis = clockMillis;
        this.sync = new MapSync(helper);
        blocklist.addListener(this::requestSync);
        roaming.addListener(this::requestSync);
    }

    /**
     * Attaches to every NIC; stops at the first failure and returns its result (the caller
     * logs SPEC's {@code xdp_attach_failed} line and refuses to start). Null on success.
     */
    public AttachResult attach(List<String> interfaces, XdpMode requested) throws IOException {
        Map<String, String> abi = AbiLayout.parse(helper.callMulti("abi"));
        Map<String, String> drift = AbiLayout.mismatches(abi);
        if (!drift.isEmpty()) {
            throw new IOException("the XDP helper's struct layout differs from ours: " + drift);
        }
        for (String nic : interfaces) {
            AttachResult r = AttachResult.parse(helper.call("attach " + nic + " " + requested.word()));
            if (!r.ok()) {
                return r;
            }
            if (r.fallback() != null) {
                LOG.info("xdp auto mode on {}: native attach failed ({}), using skb", nic, r.fallback());
            }
            LOG.info(r.logLine());
            attached.add(r);
            mode = r.mode();
            nics.put(nic, describe(nic, r.ifindex()));
        }
        syncNow();
        thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        return null;
    }

    @Override
    public void rosterChanged(Roster before, RosterChange change) {
        requestSync();
    }

    /** The achieved attach mode, {@code drv} or {@code skb}. */
    public String mode() {
        return mode;
    }

    public XdpStats stats() {
        return stats;
    }

    public long failedMapWrites() {
        return sync.failedWrites();
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
        syncNow();
        try {
            stats = XdpStats.parse(helper.callMulti("stats"));
        } catch (IOException e) {
            LOG.warn("reading XDP counters failed: {}", e.getMessage());
        }
    }

    private void syncNow() {
        try {
            sync.apply(XdpProjection.project(relayPort, nics, tables.current(), blocklist, clockMillis.getAsLong()));
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
