package org.wgrelay.server.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
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
 * SPEC C: the roster and the blocklist in etcd, shared by a fleet of relays.
 *
 * <p>One source of truth: this relay changes its roster only from its watch of the prefix,
 * in revision order, on the writer thread ({@link StoreMirror} holds the keys). A verb is one
 * transaction ({@link TxnPlan}) conditioned on the revisions this relay has seen; when it
 * loses a race the verb waits for the watch to bring the winner's change and validates again,
 * so it answers with the same codes as a single relay. A verb returns once its own relay has
 * applied the revision it wrote (read-your-writes on this relay).
 *
 * <p>Forwarding never waits for etcd. A confirmed roam is live in the table at once and
 * written afterwards, conditioned on the peer's revision; losing that transaction means
 * another relay changed the peer first, and this relay takes the stored state. While etcd
 * is unreachable the relay forwards with what it has, answers changes with
 * {@code store_unavailable}, and resyncs (a full read, then the watch) when etcd is back, as
 * it does when the watch falls behind compaction.
 *
 * <p>Threads: a single store thread connects, probes and resyncs; jetcd's threads deliver
 * watch events and answers, which hop to the writer thread; verbs wait on their own thread.
 */
public final class EtcdRosterStore implements RosterStore {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdRosterStore.class);
    /** How long one etcd call may take before the store counts as unreachable. */
    private static final long CALL_TIMEOUT_MILLIS = 3_000;
    /** How long a verb waits for its own watch to apply what it wrote. */
    private static final long APPLY_TIMEOUT_MILLIS = 5_000;
    /** How often the store thread checks that etcd answers (and reconnects when it does again). */
    private static final long PROBE_MILLIS = 1_000;
    /** TTL of {@code relays/<id>}'s lease: a relay that stops is gone from the list this soon. */
    private static final long RELAY_LEASE_SECONDS = 10;
    /** A verb that keeps losing races gives up after this many attempts. */
    private static final int MAX_ATTEMPTS = 8;

    private final EtcdSettings settings;
    private final StoreKeys keys;
    private final Blocklist blocklist;
    private final LongSupplier clockMillis;
    private final RosterFile cache;
    private final Supplier<RelayInfo> self;
    private final StoreMirror mirror;
    private final BlocklistMirror blocks;
    private final ScheduledExecutorService storeThread;
    private final Object appliedLock = new Object();
    /** Roams live here but not yet written (writer thread only): peer → roam. */
    private final Map<String, PendingRoam> pendingRoams = new HashMap<>();
    /** Strike blocks made while etcd was away, shared at the next sync (writer thread only). */
    private final Map<InetAddress, PendingBlock> pendingBlocks = new HashMap<>();

    private final java.util.concurrent.atomic.AtomicLong syncs = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong losses = new java.util.concurrent.atomic.AtomicLong();
    private volatile AppliedRoster target;
    private volatile Client client;
    private volatile boolean connected;
    private volatile boolean synced;
    private volatile long appliedRevision;
    private volatile List<RelayInfo> relays = List.of();
    /**
     * Test seam: runs on the store thread between a full read and the watch that follows it
     * (a test compacts etcd there, so the watch starts behind compaction for real).
     */
    volatile Runnable betweenReadAndWatch;
    /** Bumped at each full sync; answers of an older watch are ignored. */
    private volatile int generation;

    private Watch.Watcher watcher;
    private CloseableClient relayKeepAlive;
    private long relayLease;
    private boolean reportedUnreachable;
    /** The roster as stored (without roams not yet written): what verbs validate against. */
    private Roster storedRoster;

    private record PendingRoam(Endpoint endpoint, long baseRevision) {}

    private record PendingBlock(long expiresAtWallMillis, int strikes) {}

    /**
     * @param cache the roster file rewritten after each applied change and served at start while
     *     etcd is unreachable, or null for none
     * @param events where blocklist events made elsewhere are announced
     * @param self this relay as {@code relays/<id>} shows it
     */
    public EtcdRosterStore(
            EtcdSettings settings,
            int maxLinksPerPeer,
            RosterFile cache,
            Blocklist blocklist,
            LongSupplier clockMillis,
            BiConsumer<String, Object> events,
            Supplier<RelayInfo> self) {
        this.settings = settings;
        this.keys = new StoreKeys(settings.prefix());
        this.cache = cache;
        this.blocklist = blocklist;
        this.clockMillis = clockMillis;
        this.self = self;
        this.mirror = new StoreMirror(maxLinksPerPeer);
        this.storedRoster = Roster.empty(maxLinksPerPeer);
        this.blocks = new BlocklistMirror(blocklist, clockMillis, events, settings.relayId());
        this.storeThread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "wg-relay-store");
            t.setDaemon(true);
            return t;
        });
    }

    public RosterFile cache() {
        return cache;
    }

    @Override
    public String kind() {
        return "etcd";
    }

    @Override
    public void attach(AppliedRoster target) {
        this.target = target;
    }

    @Override
    public void start() {
        storeThread.scheduleWithFixedDelay(this::probe, 0, PROBE_MILLIS, TimeUnit.MILLISECONDS);
    }

    // ---- connection, sync and watch (store thread) ----------------------------------------

    private void probe() {
        try {
            if (client == null) {
                client = settings.buildClient();
            }
            if (!connected) {
                fullSync();
                return;
            }
            client.getKVClient()
                    .get(bytes(keys.absolute(StoreKeys.relay(settings.relayId()))))
                    .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            lost(reason(e));
        }
    }

    private void lost(String reason) {
        if (connected) {
            connected = false;
            losses.incrementAndGet();
            LOG.warn("store_lost reason={}", reason);
        } else if (!reportedUnreachable && !synced) {
            reportedUnreachable = true;
            LOG.warn("store_unreachable endpoints={}", settings.endpointsText());
            // SPEC's line names the endpoints only; why is its own line (TLS, auth, refused...).
            LOG.warn("etcd did not answer: {}; serving the cached roster, retrying every second", reason);
        }
        closeWatch();
    }

    private void fullSync() throws Exception {
        GetResponse all = client.getKVClient()
                .get(bytes(keys.prefix()), GetOption.builder().isPrefix(true).build())
                .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        long revision = all.getHeader().getRevision();
        Map<String, StoreMirror.Versioned> read = new HashMap<>();
        for (KeyValue kv : all.getKvs()) {
            String rel = keys.relative(kv.getKey().toString(StandardCharsets.UTF_8));
            if (rel != null) {
                read.put(rel, versioned(kv));
            }
        }
        registerRelay();
        closeWatch();
        int gen = ++generation;
        target.callOnWriter(() -> {
            mirror.replace(read, revision);
            Set<InetAddress> stored = new HashSet<>();
            for (Map.Entry<String, StoreMirror.Versioned> e : mirror.under(StoreKeys.BLOCKLIST)) {
                InetAddress ip = BlocklistMirror.ipOf(e.getKey());
                if (ip != null) {
                    stored.add(ip);
                    blocks.put(e.getKey(), e.getValue().value());
                }
            }
            blocks.retainOnly(stored, pendingBlocks.keySet());
            rebuild("store sync at revision " + revision);
            markApplied(revision);
            return null;
        });
        Runnable seam = betweenReadAndWatch;
        if (seam != null) {
            betweenReadAndWatch = null;
            seam.run();
        }
        watcher = client.getWatchClient()
                .watch(
                        bytes(keys.prefix()),
                        WatchOption.builder()
                                .isPrefix(true)
                                .withRevision(revision + 1)
                                .build(),
                        Watch.listener(r -> onWatch(gen, r), e -> onWatchError(gen, e)));
        connected = true;
        synced = true;
        syncs.incrementAndGet();
        Roster r = target.current();
        LOG.info("store_synced revision={} peers={} links={}", revision, r.peerCount(), r.linkCount());
        target.runOnWriter(this::writePending);
    }

    private void registerRelay() throws Exception {
        if (relayKeepAlive != null) {
            relayKeepAlive.close();
            client.getLeaseClient().revoke(relayLease); // best effort: the old lease may be gone already
        }
        relayLease = client.getLeaseClient()
                .grant(RELAY_LEASE_SECONDS)
                .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .getID();
        RelayInfo me = self.get();
        client.getKVClient()
                .put(
                        bytes(keys.absolute(StoreKeys.relay(settings.relayId()))),
                        ByteSequence.from(StoreJson.relay(me)),
                        PutOption.builder().withLeaseId(relayLease).build())
                .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        relayKeepAlive = client.getLeaseClient().keepAlive(relayLease, new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse value) {}

            @Override
            public void onError(Throwable t) {
                // The lease is gone (etcd was away longer than its TTL): the next probe resyncs
                // and registers again.
                storeThread.execute(() -> lost("relay lease lost: " + reason(t)));
            }

            @Override
            public void onCompleted() {}
        });
    }

    private void onWatch(int gen, WatchResponse response) {
        long revision = response.getHeader().getRevision();
        List<WatchEvent> events = response.getEvents();
        target.runOnWriter(() -> {
            if (gen != generation) {
                return; // an older watch's answer, already covered by a full sync
            }
            boolean rosterChanged = false;
            boolean relaysChanged = false;
            for (WatchEvent e : events) {
                KeyValue kv = e.getKeyValue();
                String rel = keys.relative(kv.getKey().toString(StandardCharsets.UTF_8));
                if (rel == null) {
                    continue;
                }
                if (e.getEventType() == WatchEvent.EventType.PUT) {
                    mirror.put(rel, versioned(kv));
                    if (rel.startsWith(StoreKeys.BLOCKLIST)) {
                        blocks.put(rel, kv.getValue().getBytes());
                    }
                } else if (e.getEventType() == WatchEvent.EventType.DELETE) {
                    mirror.remove(rel);
                    if (rel.startsWith(StoreKeys.BLOCKLIST)) {
                        blocks.delete(rel);
                    }
                }
                rosterChanged |= rel.startsWith(StoreKeys.PEERS) || rel.startsWith(StoreKeys.LINKS);
                relaysChanged |= rel.startsWith(StoreKeys.RELAYS);
            }
            mirror.revision(revision);
            if (rosterChanged) {
                rebuild("store revision " + revision);
            } else if (relaysChanged) {
                relays = readRelays();
            }
            markApplied(revision);
        });
    }

    private void onWatchError(int gen, Throwable error) {
        storeThread.execute(() -> {
            if (gen != generation) {
                return;
            }
            if (error instanceof CompactedException) {
                // Behind compaction: what was missed cannot be replayed; read everything again.
                lost("watch fell behind compaction");
            } else {
                lost("watch failed: " + reason(error));
            }
        });
    }

    private void closeWatch() {
        Watch.Watcher w = watcher;
        watcher = null;
        if (w != null) {
            w.close();
        }
    }

    // ---- applying (writer thread) ---------------------------------------------------------

    /**
     * Makes the stored roster live, with the roams not yet written laid over it while their
     * peer is unchanged in the store (else the stored state wins and the roam is dropped).
     */
    private void rebuild(String message) {
        storedRoster = mirror.roster();
        Roster live = storedRoster;
        for (Iterator<Map.Entry<String, PendingRoam>> it =
                        pendingRoams.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<String, PendingRoam> e = it.next();
            String peer = e.getKey();
            PendingRoam roam = e.getValue();
            RosterChange moved = mirror.modRevision(StoreKeys.peer(peer)) == roam.baseRevision()
                    ? live.updateEndpoint(peer, roam.endpoint())
                    : null;
            if (moved != null && moved.ok()) {
                live = moved.roster();
            } else {
                it.remove();
            }
        }
        relays = readRelays();
        Roster before = target.current();
        target.install(live, message);
        if (cache != null && !live.equals(before)) {
            try {
                cache.write(live);
            } catch (RosterFileException e) {
                LOG.warn("roster cache not written: {}", e.getMessage());
            }
        }
    }

    private List<RelayInfo> readRelays() {
        List<RelayInfo> out = new ArrayList<>();
        for (Map.Entry<String, StoreMirror.Versioned> e : mirror.under(StoreKeys.RELAYS)) {
            RelayInfo r = StoreJson.readRelay(
                    e.getKey().substring(StoreKeys.RELAYS.length()),
                    e.getValue().value());
            if (r != null) {
                out.add(r);
            }
        }
        out.sort(java.util.Comparator.comparing(RelayInfo::id));
        return List.copyOf(out);
    }

    private void markApplied(long revision) {
        synchronized (appliedLock) {
            if (revision > appliedRevision) {
                appliedRevision = revision;
            }
            appliedLock.notifyAll();
        }
    }

    /**
     * etcd answered a write but the watch has not delivered it: the watch is stuck. Read
     * everything again rather than serve a roster that silently stopped following the fleet.
     */
    private void watchStalled(long revision) {
        storeThread.execute(
                () -> lost("watch did not deliver revision " + revision + " within " + APPLY_TIMEOUT_MILLIS + " ms"));
    }

    /** Waits until this relay has applied {@code revision}; false on timeout. */
    private boolean awaitApplied(long revision) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(APPLY_TIMEOUT_MILLIS);
        synchronized (appliedLock) {
            while (appliedRevision < revision) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                appliedLock.wait(left);
            }
        }
        return true;
    }

    // ---- verbs ----------------------------------------------------------------------------

    @Override
    public RosterChange apply(Function<Roster, RosterChange> change) {
        if (target.onWriter()) {
            throw new IllegalStateException("an etcd verb cannot wait on the writer thread");
        }
        TxnPlan unanswered = null;
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            if (!connected) {
                return unavailable("etcd is unreachable, nothing changed; forwarding goes on with the roster it has");
            }
            TxnPlan plan;
            try {
                plan = target.callOnWriter(() -> {
                    Roster before = storedRoster;
                    RosterChange result = change.apply(before);
                    return result.ok() && !result.roster().equals(before)
                            ? TxnPlan.of(mirror, before, result)
                            : new TxnPlan(List.of(), List.of(), result);
                });
            } catch (StoreUnavailableException e) {
                return unavailable(e.getMessage());
            }
            if (plan.isEmpty()) {
                TxnPlan earlier = unanswered;
                if (earlier != null && !plan.result().ok() && target.callOnWriter(() -> earlier.reflectedIn(mirror))) {
                    // The unanswered transaction was made after all: this verb's own change.
                    return new RosterChange(RosterOutcome.OK, earlier.result().message(), target.current());
                }
                return plan.result();
            }
            TxnResponse response;
            try {
                response = commit(plan);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return unavailable("interrupted; the change may or may not have been made");
            } catch (Exception e) {
                // No answer: the transaction may have been applied. Look again once the watch
                // catches up; an attempt that finds its own change made reports success.
                LOG.warn("store transaction failed: {}", reason(e));
                unanswered = plan;
                sleepQuietly(200);
                continue;
            }
            long revision = response.getHeader().getRevision();
            try {
                if (!awaitApplied(revision)) {
                    watchStalled(revision);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (response.isSucceeded()) {
                return new RosterChange(RosterOutcome.OK, plan.result().message(), target.current());
            }
            // Lost a race: the watch has now brought the winner's change; validate again.
        }
        return unavailable("the change kept conflicting with changes made on other relays; nothing changed, try again");
    }

    private TxnResponse commit(TxnPlan plan) throws Exception {
        List<Cmp> cmps = new ArrayList<>();
        for (TxnPlan.Condition c : plan.conditions()) {
            ByteSequence key = bytes(keys.absolute(c.key()));
            cmps.add(
                    c.modRevision() == 0
                            ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0))
                            : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(c.modRevision())));
        }
        List<Op> ops = new ArrayList<>();
        for (TxnPlan.Write w : plan.writes()) {
            ByteSequence key = bytes(keys.absolute(w.key()));
            ops.add(
                    w.value() == null
                            ? Op.delete(key, DeleteOption.DEFAULT)
                            : Op.put(key, ByteSequence.from(w.value()), PutOption.DEFAULT));
        }
        return client.getKVClient()
                .txn()
                .If(cmps.toArray(Cmp[]::new))
                .Then(ops.toArray(Op[]::new))
                .commit()
                .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }

    private RosterChange unavailable(String message) {
        return new RosterChange(RosterOutcome.STORE_UNAVAILABLE, message, target.current());
    }

    // ---- roaming (writer thread) ----------------------------------------------------------

    @Override
    public RosterChange relearn(String peer, Endpoint endpoint) {
        RosterChange moved = target.current().updateEndpoint(peer, endpoint);
        if (!moved.ok()) {
            return moved;
        }
        target.install(moved.roster(), moved.message());
        pendingRoams.put(peer, new PendingRoam(endpoint, mirror.modRevision(StoreKeys.peer(peer))));
        if (connected) {
            writeRoam(peer);
        }
        return moved;
    }

    /** Writes one pending roam, conditioned on the peer's revision when it roamed. */
    private void writeRoam(String peer) {
        PendingRoam roam = pendingRoams.get(peer);
        if (roam == null) {
            return;
        }
        RosterChange stored = storedRoster.updateEndpoint(peer, roam.endpoint());
        if (!stored.ok() || mirror.modRevision(StoreKeys.peer(peer)) != roam.baseRevision()) {
            pendingRoams.remove(peer);
            LOG.info(
                    "relearn peer={} endpoint={} not stored: {}; taking the stored state",
                    peer,
                    roam.endpoint(),
                    stored.ok() ? "the peer changed in the store" : stored.message());
            rebuild("relearn of " + peer + " lost to the store");
            return;
        }
        if (stored.roster().equals(storedRoster)) {
            pendingRoams.remove(peer);
            return;
        }
        TxnPlan plan = TxnPlan.of(mirror, storedRoster, stored);
        CompletableFuture.supplyAsync(() -> {
                    try {
                        return commit(plan);
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                })
                .whenComplete((response, error) -> target.runOnWriter(() -> {
                    if (pendingRoams.get(peer) != roam) {
                        return; // superseded by a newer roam or dropped by a sync
                    }
                    if (error != null) {
                        LOG.warn("relearn peer={} not stored yet: {}", peer, reason(error));
                        return; // kept: written at the next sync
                    }
                    pendingRoams.remove(peer);
                    if (!response.isSucceeded()) {
                        LOG.info(
                                "relearn peer={} endpoint={} lost to another relay's change; taking the stored state",
                                peer,
                                roam.endpoint());
                        rebuild("relearn of " + peer + " lost to the store");
                    }
                }));
    }

    /** After a sync: writes the roams and strike blocks made while etcd was away. */
    private void writePending() {
        for (String peer : List.copyOf(pendingRoams.keySet())) {
            writeRoam(peer);
        }
        long wallNow = System.currentTimeMillis();
        for (Map.Entry<InetAddress, PendingBlock> e : Map.copyOf(pendingBlocks).entrySet()) {
            long seconds = (e.getValue().expiresAtWallMillis() - wallNow) / 1000;
            if (seconds > 0) {
                putBlock(e.getKey(), seconds, e.getValue().strikes());
            }
        }
        pendingBlocks.clear();
    }

    // ---- blocklist ------------------------------------------------------------------------

    @Override
    public void block(InetAddress ip, long seconds, int totalStrikes) {
        if (!connected) {
            throw new StoreUnavailableException("etcd is unreachable, nothing changed");
        }
        long now = clockMillis.getAsLong();
        long left = blocklist.entries(now).stream()
                .filter(e -> e.ip().equals(ip))
                .mapToLong(e -> (e.expiresAtMillis() - now) / 1000)
                .findFirst()
                .orElse(0);
        long revision;
        try {
            revision =
                    putBlock(ip, Math.max(seconds, left), totalStrikes).get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            if (!awaitApplied(revision)) {
                watchStalled(revision);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted; the block may or may not have been made");
        } catch (Exception e) {
            throw new StoreUnavailableException("etcd did not take the block: " + reason(e));
        }
    }

    /** Puts {@code blocklist/<ip>} on a lease of {@code seconds}; completes with the revision. */
    private CompletableFuture<Long> putBlock(InetAddress ip, long seconds, int strikes) {
        byte[] value =
                StoreJson.block(strikes, seconds, System.currentTimeMillis() + seconds * 1000, settings.relayId());
        ByteSequence key = bytes(keys.absolute(StoreKeys.blocklist(Endpoint.hostText(ip))));
        return client.getLeaseClient()
                .grant(seconds)
                .thenCompose(lease -> client.getKVClient()
                        .put(
                                key,
                                ByteSequence.from(value),
                                PutOption.builder().withLeaseId(lease.getID()).build()))
                .thenApply(put -> put.getHeader().getRevision());
    }

    @Override
    public boolean unblock(InetAddress ip) {
        if (!connected) {
            throw new StoreUnavailableException("etcd is unreachable, nothing changed");
        }
        String rel = StoreKeys.blocklist(Endpoint.hostText(ip));
        StoreMirror.Versioned stored = target.callOnWriter(() -> {
            StoreMirror.Versioned v = mirror.get(rel);
            if (v != null) {
                blocks.expectOwnRemoval(ip);
            }
            return v;
        });
        if (stored == null) {
            return target.callOnWriter(() -> blocklist.unblock(ip)); // a local entry not shared yet
        }
        try {
            long revision = client.getKVClient()
                    .delete(bytes(keys.absolute(rel)))
                    .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                    .getHeader()
                    .getRevision();
            if (stored.lease() != 0) {
                client.getLeaseClient().revoke(stored.lease()); // best effort: it would expire anyway
            }
            if (!awaitApplied(revision)) {
                watchStalled(revision);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted; the entry may or may not have been removed");
        } catch (Exception e) {
            throw new StoreUnavailableException("etcd did not take the removal: " + reason(e));
        }
    }

    @Override
    public void shareStrikeBlock(InetAddress ip, long seconds, int totalStrikes) {
        if (connected) {
            putBlock(ip, seconds, totalStrikes).whenComplete((rev, error) -> {
                if (error != null) {
                    LOG.warn("blocklist ip={} not shared: {}", Endpoint.hostText(ip), reason(error));
                }
            });
            return;
        }
        Runnable remember = () ->
                pendingBlocks.put(ip, new PendingBlock(System.currentTimeMillis() + seconds * 1000, totalStrikes));
        if (target.onWriter()) {
            remember.run();
        } else {
            target.runOnWriter(remember);
        }
    }

    // ---- status ---------------------------------------------------------------------------

    @Override
    public StoreStatus status() {
        return new StoreStatus("etcd", appliedRevision, connected, synced, syncs.get(), losses.get());
    }

    @Override
    public List<RelayInfo> relays() {
        return relays;
    }

    @Override
    public void close() {
        storeThread.shutdownNow();
        try {
            storeThread.awaitTermination(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeWatch();
        Client c = client;
        if (c != null) {
            if (relayKeepAlive != null) {
                relayKeepAlive.close();
                try {
                    // Leave the list at once rather than when the lease runs out.
                    c.getLeaseClient().revoke(relayLease).get(1, TimeUnit.SECONDS);
                } catch (Exception e) {
                    LOG.debug("relay lease not revoked: {}", reason(e));
                }
            }
            c.close();
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    private static StoreMirror.Versioned versioned(KeyValue kv) {
        return new StoreMirror.Versioned(
                kv.getValue().getBytes(), kv.getCreateRevision(), kv.getModRevision(), kv.getLease());
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    private static String reason(Throwable e) {
        Throwable t = e;
        while ((t instanceof java.util.concurrent.ExecutionException
                        || t instanceof java.util.concurrent.CompletionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return (t instanceof java.util.concurrent.TimeoutException
                        ? "timeout"
                        : t.getClass().getSimpleName())
                + (m == null ? "" : ": " + m.replace('\n', ' '));
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
