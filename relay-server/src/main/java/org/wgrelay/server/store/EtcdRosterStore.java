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
    /**
     * TTL of the fence lease each verb's transaction writes {@code fences/<relay-id>} on. A
     * transaction that reaches etcd after its fence ended (stuck in a connection that was cut,
     * delivered when it heals) fails as a whole, so a verb this relay answered with
     * {@code store_unavailable} can never take effect later.
     */
    private static final long FENCE_SECONDS = 3;
    /** Beyond the fence's TTL: etcd may extend a lease by an election timeout on a leader change. */
    private static final long FENCE_SLACK_MILLIS = 1_500;
    /** A verb keeps trying while etcd is connected but slow to answer (a member failing over) this long. */
    private static final long VERB_DEADLINE_MILLIS = 8_000; // under ctl's default 10 s
    /** Tries at reattaching a broken keep-alive, half a second apart: well inside the 10 s lease. */
    private static final int KEEPALIVE_RETRIES = 12;
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
    /** When the watch was last reopened after an error, and how long the next reopen waits (store thread). */
    private long lastWatchReopen;

    private long watchBackoffMillis;
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
            answers();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            lost(reason(e));
        }
    }

    /**
     * One small read. A quick refusal (a member that just died, whose connection the client has
     * not yet dropped) is asked again twice on the next members before it counts; a timeout
     * counts at once.
     */
    private void answers() throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                client.getKVClient()
                        .get(bytes(keys.absolute(StoreKeys.relay(settings.relayId()))))
                        .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                return;
            } catch (java.util.concurrent.TimeoutException e) {
                throw e;
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt >= 2) {
                    throw e;
                }
                Thread.sleep(300);
            }
        }
    }

    /** Why etcd last failed to answer, for tests and debugging (null until it does). */
    volatile String lastError;

    private void lost(String reason) {
        lastError = reason;
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
        ++generation; // answers of the old watch still queued on the writer are stale now
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
        openWatch(revision);
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
        keepRelayAlive();
    }

    /** Keeps {@code relays/<id>}'s lease alive; when the stream breaks, attaches a new one (store thread). */
    private void keepRelayAlive() {
        long lease = relayLease;
        relayKeepAlive = client.getLeaseClient().keepAlive(lease, new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse value) {}

            @Override
            public void onError(Throwable t) {
                storeThread.execute(() -> keepAliveBroke(lease, t));
            }

            @Override
            public void onCompleted() {}
        });
    }

    /**
     * The keep-alive stream of {@code relays/<id>}'s lease broke: usually the member carrying it
     * went away while the lease lives on (its TTL outlasts a failover). Attach a new stream to
     * the same lease; if the lease is gone, register again; if etcd does not answer, the store
     * is lost and the next sync registers.
     */
    private void keepAliveBroke(long lease, Throwable why) {
        keepAliveBroke(lease, why, 0);
    }

    /**
     * One try at reattaching; while a leader is being elected lease calls fail for a second or
     * two, so it tries again every half second for most of the lease's TTL before giving up.
     */
    private void keepAliveBroke(long lease, Throwable why, int attempt) {
        if (lease != relayLease || !connected) {
            return;
        }
        try {
            client.getLeaseClient().keepAliveOnce(lease).get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            if (relayKeepAlive != null) {
                relayKeepAlive.close();
            }
            keepRelayAlive();
            LOG.info("relay lease keep-alive reattached after: {}", reason(why));
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            if (attempt < KEEPALIVE_RETRIES && !reason(e).contains("lease not found")) {
                storeThread.schedule(() -> keepAliveBroke(lease, why, attempt + 1), 500, TimeUnit.MILLISECONDS);
                return;
            }
        }
        try {
            registerRelay();
            LOG.info("relay registered again after its lease ended: {}", reason(why));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } catch (Exception again) {
            lost("relay lease lost: " + reason(why));
        }
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
            if (gen != generation || !connected) {
                return;
            }
            if (error instanceof CompactedException) {
                // Behind compaction: what was missed cannot be replayed; read everything again.
                lost("watch fell behind compaction");
                return;
            }
            // The member carrying the watch went away (a cluster of three loses one): open it
            // again on the others from the last applied revision; nothing is missed, nothing lost.
            // A watch that fails again at once (the dead member's connection not yet dropped)
            // waits longer each time, up to 2 s, so it never spins.
            long now = System.nanoTime();
            watchBackoffMillis = now - lastWatchReopen < TimeUnit.SECONDS.toNanos(5)
                    ? Math.min(2_000, Math.max(100, watchBackoffMillis * 2))
                    : 0;
            lastWatchReopen = now;
            storeThread.schedule(() -> reopenWatch(gen, error), watchBackoffMillis, TimeUnit.MILLISECONDS);
        });
    }

    private void reopenWatch(int gen, Throwable error) {
        if (gen != generation || !connected) {
            return;
        }
        try {
            openWatch(appliedRevision);
            LOG.info("store watch reopened from revision {} after: {}", appliedRevision, reason(error));
        } catch (RuntimeException e) {
            lost("watch failed: " + reason(error) + "; reopening failed: " + reason(e));
        }
    }

    /** A watch of the prefix from {@code revision + 1}, under a new generation (store thread). */
    private void openWatch(long revision) {
        closeWatch();
        int gen = ++generation;
        watcher = client.getWatchClient()
                .watch(
                        bytes(keys.prefix()),
                        WatchOption.builder()
                                .isPrefix(true)
                                .withRevision(revision + 1)
                                .build(),
                        Watch.listener(r -> onWatch(gen, r), e -> onWatchError(gen, e)));
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
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(VERB_DEADLINE_MILLIS);
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
                return plan.result();
            }
            Written written;
            try {
                written = writeFenced(cmps(plan), ops(plan), () -> plan.reflectedIn(mirror));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return unavailable("interrupted; the change may or may not have been made");
            }
            if (written.nothingSent() && System.nanoTime() < deadline) {
                attempt--; // not a race lost: wait for the probe's verdict or another member
                sleepQuietly(250);
                continue;
            }
            if (written.unknown() != null) {
                return unavailable(written.unknown());
            }
            if (written.made()) {
                return new RosterChange(RosterOutcome.OK, plan.result().message(), target.current());
            }
            TxnResponse response = written.response();
            if (response == null) {
                continue; // unanswered, and now certainly not made: validate and try again
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

    private List<Cmp> cmps(TxnPlan plan) {
        List<Cmp> cmps = new ArrayList<>();
        for (TxnPlan.Condition c : plan.conditions()) {
            ByteSequence key = bytes(keys.absolute(c.key()));
            cmps.add(
                    c.modRevision() == 0
                            ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0))
                            : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(c.modRevision())));
        }
        return cmps;
    }

    private List<Op> ops(TxnPlan plan) {
        List<Op> ops = new ArrayList<>();
        for (TxnPlan.Write w : plan.writes()) {
            ByteSequence key = bytes(keys.absolute(w.key()));
            ops.add(
                    w.value() == null
                            ? Op.delete(key, DeleteOption.DEFAULT)
                            : Op.put(key, ByteSequence.from(w.value()), PutOption.DEFAULT));
        }
        return ops;
    }

    /**
     * The answer to a fenced write: etcd's {@code response}; or, when etcd did not answer,
     * {@code made} (the write is in the store) or neither (it is not, and now never will be);
     * or {@code unknown}, a sentence saying why nothing can be said yet.
     */
    private record Written(TxnResponse response, boolean made, String unknown, boolean nothingSent) {
        Written(TxnResponse response, boolean made, String unknown) {
            this(response, made, unknown, false);
        }
    }

    /**
     * One transaction of a verb, fenced: it also puts {@code fences/<relay-id>} on a lease of
     * {@link #FENCE_SECONDS}, so etcd applies it only while that lease lives. Unanswered, this
     * waits until the lease has ended, revokes it to be sure, lets the watch catch up and asks
     * {@code made} whether the write is in the store.
     */
    private Written writeFenced(List<Cmp> cmps, List<Op> ops, java.util.function.BooleanSupplier made)
            throws InterruptedException {
        long fence;
        try {
            fence = client.getLeaseClient()
                    .grant(FENCE_SECONDS)
                    .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                    .getID();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            // Nothing that could change the store was sent. A member may just have gone away
            // (the next call goes to another), or etcd may be unreachable: let the probe decide now.
            storeThread.execute(this::probe);
            return new Written(null, false, "etcd did not answer, nothing changed: " + reason(e), true);
        }
        long sentAt = System.nanoTime();
        List<Op> fenced = new ArrayList<>(ops);
        fenced.add(Op.put(
                bytes(keys.absolute(StoreKeys.fence(settings.relayId()))),
                ByteSequence.EMPTY,
                PutOption.builder().withLeaseId(fence).build()));
        try {
            TxnResponse response = client.getKVClient()
                    .txn()
                    .If(cmps.toArray(Cmp[]::new))
                    .Then(fenced.toArray(Op[]::new))
                    .commit()
                    .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            client.getLeaseClient().revoke(fence); // done with it; it would end by itself anyway
            return new Written(response, false, null);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("store transaction unanswered: {}; settling it once its fence has ended", reason(e));
        }
        long until =
                sentAt + TimeUnit.SECONDS.toNanos(FENCE_SECONDS) + TimeUnit.MILLISECONDS.toNanos(FENCE_SLACK_MILLIS);
        long left = until - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        String unsure = "etcd did not answer in time, so the change is not confirmed: if etcd got it, it took"
                + " effect within " + FENCE_SECONDS + " s of the request, and it can no longer take effect."
                + " Check with wg peer list once wg show says store_connected";
        try {
            client.getLeaseClient().revoke(fence).get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            if (!reason(e).contains("lease not found")) {
                return new Written(null, false, unsure);
            }
        }
        // The fence is gone: the write is in the store now or never. Catch up and look.
        try {
            long now = client.getKVClient()
                    .get(bytes(keys.absolute(StoreKeys.relay(settings.relayId()))))
                    .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                    .getHeader()
                    .getRevision();
            if (!awaitApplied(now)) {
                watchStalled(now);
                return new Written(null, false, unsure);
            }
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return new Written(null, false, unsure);
        }
        return new Written(null, target.callOnWriter(made::getAsBoolean), null);
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
                        // A roam is not fenced: it is conditioned on the peer's revision, and
                        // arriving late it still states where the peer was seen.
                        return client.getKVClient()
                                .txn()
                                .If(cmps(plan).toArray(Cmp[]::new))
                                .Then(ops(plan).toArray(Op[]::new))
                                .commit()
                                .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
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
        long ttl = Math.max(seconds, left); // extends, never shortens, as on one relay
        String rel = StoreKeys.blocklist(Endpoint.hostText(ip));
        byte[] value = StoreJson.block(totalStrikes, ttl, System.currentTimeMillis() + ttl * 1000, settings.relayId());
        try {
            long lease = client.getLeaseClient()
                    .grant(ttl)
                    .get(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                    .getID();
            Op put = Op.put(
                    bytes(keys.absolute(rel)),
                    ByteSequence.from(value),
                    PutOption.builder().withLeaseId(lease).build());
            settle(writeFenced(List.of(), List.of(put), () -> mirror.holds(rel, value)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted; the block may or may not have been made");
        } catch (StoreUnavailableException e) {
            throw e;
        } catch (Exception e) {
            throw new StoreUnavailableException("etcd did not take the block, nothing changed: " + reason(e));
        }
    }

    /** A blocklist verb's write: answered and applied here, made after all, or why not. */
    private void settle(Written written) throws InterruptedException {
        if (written.unknown() != null) {
            throw new StoreUnavailableException(written.unknown());
        }
        if (written.response() == null) {
            if (!written.made()) {
                throw new StoreUnavailableException("etcd did not answer in time, nothing changed; try again");
            }
            return;
        }
        long revision = written.response().getHeader().getRevision();
        if (!awaitApplied(revision)) {
            watchStalled(revision);
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
            Op delete = Op.delete(bytes(keys.absolute(rel)), DeleteOption.DEFAULT);
            settle(writeFenced(List.of(), List.of(delete), () -> mirror.get(rel) == null));
            if (stored.lease() != 0) {
                client.getLeaseClient().revoke(stored.lease()); // best effort: it would expire anyway
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted; the entry may or may not have been removed");
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
