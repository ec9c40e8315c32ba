package org.wgrelay.it.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.netns.Topology;
import org.wgrelay.it.netns.WireGuardPeer;
import org.wgrelay.it.netns.WireGuardTunnel;
import org.wgrelay.it.xdp.XdpRig;

/**
 * The fixture of the hub-link tests (SPEC 0.3 B): one WireGuard hub with three spokes, all of them
 * stock wireguard-go, each in a namespace of its own that reaches nothing but the relay.
 *
 * <pre>
 *   [hub ns]     wg 10.236.0.1    veth 10.235.0.2 ---- 10.235.0.1 |            |
 *   [spoke1 ns]  wg 10.236.0.11   veth 10.235.1.2 ---- 10.235.1.1 |            |
 *   [spoke2 ns]  wg 10.236.0.12   veth 10.235.2.2 ---- 10.235.2.1 | [relay ns] |
 *   [spoke3 ns]  wg 10.236.0.13   veth 10.235.3.2 ---- 10.235.3.1 |            |
 *   [mallory ns] (optional)       veth 10.235.9.2 ---- 10.235.9.1 |            |
 * </pre>
 *
 * <p>The hub's one interface has three {@code [Peer]}s, one per spoke, each with the relay's
 * address on the hub's side as its endpoint; each spoke has one {@code [Peer]}, the hub, behind
 * the relay's address on its own side. The relay namespace does not route between its subnets,
 * so every tunnel packet crossed the relay's UDP port.
 *
 * <p>The relay starts with an empty roster and {@code --max-links-per-peer 4}; the operator's
 * part is done over the control channel as SPEC B asks: every peer added and its key stamped
 * before the links (a hub's second link needs keys on the hub and every partner), then {@code wg
 * link add hub spokeN} three times through the shipped ctl client. All keys are generated first,
 * so a test can keep the hub or a spoke down and start it later. With {@code xdp} the relay
 * attaches its fast path to all four relay veths (the far ends run the no-op pass program a veth
 * needs to deliver XDP_TX and redirected frames). Closing stops everything and asserts that
 * nothing was left behind and that the relay exited 0.
 */
final class HubAndSpokes implements AutoCloseable {

    static final int RELAY_PORT = 51820;
    static final int PEER_PORT = 51000;
    static final int MAX_LINKS_PER_PEER = 4;
    static final String RELAY_ON_MALLORY_SIDE = "10.235.9.1";
    static final String MALLORY_UNDERLAY = "10.235.9.2";

    private static final long POLL_PAUSE_MILLIS = 500;
    private static final Duration RELAY_STARTUP = Duration.ofSeconds(90);
    private static final Pattern XDP_ON_LINK = Pattern.compile("prog/xdp|\\bxdp(generic|drv|offload)?\\b");

    /** Who starts the fixture with what: the fast path, and an attacker's namespace. */
    record Options(boolean xdp, boolean mallory) {}

    /**
     * One WireGuard site behind the relay: the hub (index 0) or spoke N (index N). Its underlay is
     * {@code 10.235.N.2} facing the relay's {@code 10.235.N.1}; its key exists before its daemon.
     */
    static final class Site {
        final String name;
        final int index;
        final Netns ns;
        /** This site's veth end, in its namespace. */
        final String veth;
        /** The relay's veth facing this site, in the relay namespace. */
        final String relayVeth;

        final String privateKey;
        final String publicKey;
        /** wireguard-go, once started. */
        WireGuardPeer wg;

        private Site(String name, int index, Netns ns, String veth, String relayVeth) {
            this.name = name;
            this.index = index;
            this.ns = ns;
            this.veth = veth;
            this.relayVeth = relayVeth;
            this.privateKey = WireGuardPeer.generatePrivateKey();
            this.publicKey = WireGuardPeer.publicKeyOf(privateKey);
        }

        String underlay() {
            return "10.235." + index + ".2";
        }

        /** The relay's address on this site's side: where this site's WireGuard sends. */
        String relaySide() {
            return "10.235." + index + ".1";
        }

        /** The endpoint the operator registers: what the relay sees as this site's source. */
        String endpoint() {
            return underlay() + ":" + PEER_PORT;
        }

        String relayEndpoint() {
            return relaySide() + ":" + RELAY_PORT;
        }

        String tunnelAddress() {
            return "10.236.0." + (index == 0 ? 1 : 10 + index);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    final Topology topology;
    final Options options;
    final Netns relayNs;
    final Site hub;
    /** spoke1, spoke2, spoke3 at indices 0, 1, 2. */
    final List<Site> spokes;
    /** Null unless {@link Options#mallory}. */
    final Netns malloryNs;

    final Path roster;
    RelayProcess relay;
    RelayControl control;

    private HubAndSpokes(Topology topology, Options options) {
        this.topology = topology;
        this.options = options;
        relayNs = topology.namespace("relay");
        hub = site("hub", 0, "h");
        List<Site> s = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            s.add(site("spoke" + n, n, "s" + n));
        }
        spokes = List.copyOf(s);
        if (options.mallory()) {
            malloryNs = topology.namespace("mallory");
            topology.connect(relayNs, "rm", RELAY_ON_MALLORY_SIDE + "/24", malloryNs, "m", MALLORY_UNDERLAY + "/24");
        } else {
            malloryNs = null;
        }
        roster = topology.workDir().resolve("wg-roster");
    }

    private Site site(String name, int index, String tag) {
        Netns ns = topology.namespace(name);
        String relayTag = "r" + tag;
        topology.connect(relayNs, relayTag, "10.235." + index + ".1/24", ns, tag, "10.235." + index + ".2/24");
        Site site = new Site(name, index, ns, topology.interfaceName(tag), topology.interfaceName(relayTag));
        if (options.xdp()) {
            ns.ip(
                    "link",
                    "set",
                    "dev",
                    site.veth,
                    "xdpdrv",
                    "object",
                    XdpRig.object().toString(),
                    "section",
                    "xdp",
                    "program",
                    "wg_relay_pass");
        }
        return site;
    }

    /**
     * Skips (or under CI=true fails) without root, namespaces, TUN and the tools (and, with XDP, a
     * built {@code bpf/build}); builds the topology, starts the relay and registers the hub, the
     * spokes, their keys and the three links. No WireGuard runs yet: see {@link #startAll}.
     */
    static HubAndSpokes start(Options options) {
        if (options.xdp()) {
            XdpRig.enforcePrerequisites(true);
        }
        Prerequisites.check()
                .root()
                .tun()
                .tools("ip", "wg", "wireguard-go", "ping", "bash")
                .namespaces()
                .enforce();
        Topology topology = Topology.create();
        try {
            HubAndSpokes fixture = new HubAndSpokes(topology, options);
            fixture.startRelay();
            fixture.register();
            return fixture;
        } catch (RuntimeException | Error e) {
            try {
                topology.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void startRelay() {
        String maxLinks = Integer.toString(MAX_LINKS_PER_PEER);
        if (options.xdp()) {
            List<String> veths = new ArrayList<>();
            for (Site site : sites()) {
                veths.add(site.relayVeth);
            }
            relay = topology.adopt(RelayProcess.start(
                    relayNs,
                    "0.0.0.0",
                    RELAY_PORT,
                    roster,
                    1,
                    RELAY_STARTUP,
                    XdpRig.helperEnv(),
                    "--max-links-per-peer",
                    maxLinks,
                    "--xdp-interface",
                    String.join(",", veths),
                    "--xdp-mode",
                    "drv"));
        } else {
            relay = topology.adopt(RelayProcess.start(
                    relayNs, "0.0.0.0", RELAY_PORT, roster, 2, RELAY_STARTUP, "--max-links-per-peer", maxLinks));
        }
        control = RelayControl.of(relay, relayNs);
        System.out.println(relay.startupLine());
    }

    /** The operator's part: peers and keys over the control channel, the links with the ctl client. */
    private void register() {
        for (Site site : sites()) {
            control.call("wg peer add", site.name, site.endpoint());
        }
        for (Site site : sites()) {
            control.call("wg peer pubkey", site.name, site.publicKey);
        }
        for (Site spoke : spokes) {
            control.ctl("wg", "link", "add", hub.name, spoke.name);
        }
        assertEquals(3, control.call("wg link list").path("links").size(), "links after registration");
    }

    /** The hub and then each spoke. */
    List<Site> sites() {
        List<Site> all = new ArrayList<>();
        all.add(hub);
        all.addAll(spokes);
        return all;
    }

    /** Spoke {@code n} (1, 2 or 3). */
    Site spoke(int n) {
        return spokes.get(n - 1);
    }

    /** The hub's and every spoke's WireGuard. */
    void startAll() {
        startHub();
        for (Site spoke : spokes) {
            startSpoke(spoke);
        }
    }

    /** The hub's wireguard-go: one interface, one {@code [Peer]} per spoke, each via the relay. */
    void startHub() {
        hub.wg = startWireGuard(hub, "wh");
        for (Site spoke : spokes) {
            hub.wg.addPeer(spoke.publicKey, hub.relayEndpoint(), spoke.tunnelAddress() + "/32");
        }
    }

    /** A spoke's wireguard-go: its one {@code [Peer]} is the hub, via the relay. */
    void startSpoke(Site spoke) {
        spoke.wg = startWireGuard(spoke, "w" + spoke.index);
        spokeAddsHub(spoke);
    }

    private WireGuardPeer startWireGuard(Site site, String tag) {
        return topology.adopt(WireGuardPeer.start(
                site.ns,
                topology.interfaceName(tag),
                PEER_PORT,
                site.tunnelAddress() + "/24",
                topology.workDir(),
                site.privateKey));
    }

    /** The spoke (re)configures the hub: a fresh peer entry, without sessions or handshake state. */
    void spokeAddsHub(Site spoke) {
        spoke.wg.addPeer(hub.publicKey, spoke.relayEndpoint(), hub.tunnelAddress() + "/32");
    }

    /** The spoke forgets the hub: no sessions, no handshake retries, nothing more sent. */
    void spokeRemovesHub(Site spoke) {
        removePeer(spoke, hub.publicKey);
    }

    /** {@code wg set <site> peer <key> remove}. */
    void removePeer(Site site, String publicKey) {
        site.ns.exec(
                Duration.ofSeconds(20),
                Prerequisites.which("wg"),
                "set",
                site.wg.interfaceName(),
                "peer",
                publicKey,
                "remove");
    }

    /** {@code from} as the pinging and sending end of a tunnel to {@code to}. */
    WireGuardTunnel tunnel(Site from, Site to) {
        return WireGuardTunnel.between(from.wg, to.wg, topology.workDir());
    }

    /** One ping from {@code from} to {@code to} through the tunnel, given {@code waitSeconds} for its answer. */
    boolean ping(Site from, Site to, int waitSeconds) {
        return from.ns
                .tryExec(
                        Duration.ofSeconds(waitSeconds + 10),
                        Prerequisites.which("ping"),
                        "-n",
                        "-c",
                        "1",
                        "-W",
                        Integer.toString(waitSeconds),
                        to.tunnelAddress())
                .succeeded();
    }

    /** Waits until a ping from {@code from} to {@code to} is answered; the first may start a handshake. */
    void awaitPing(Site from, Site to, Duration timeout) {
        Await.until(
                timeout,
                "a ping from " + from + " to " + to + " through the tunnel",
                () -> ping(from, to, 1),
                this::diagnostics);
    }

    /** Runs {@code work} for each spoke on a thread of its own, all released at the same moment. */
    <T> List<T> onEachSpokeAtOnce(SpokeWork<T> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(spokes.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (Site spoke : spokes) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return work.on(spoke);
                }));
            }
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                try {
                    results.add(future.get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof AssertionError assertion) {
                        throw assertion;
                    }
                    throw e;
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @FunctionalInterface
    interface SpokeWork<T> {
        T on(Site spoke) throws Exception;
    }

    /**
     * Evaluates {@code round} about twice a second until it returns true; fails with the
     * diagnostics after {@code timeout}. A round may itself assert (an invariant checked on every
     * sample) and fail at once. For conditions that cost a control request or a ping per round.
     */
    void poll(Duration timeout, String what, BooleanSupplier round) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!round.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out after " + timeout.toSeconds() + " s waiting for " + what + "\n" + diagnostics());
            }
            try {
                Thread.sleep(POLL_PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }

    /** Every row of one {@code wg peer list}, by name. */
    Map<String, JsonNode> rows() {
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        for (JsonNode row : control.call("wg peer list").path("peers")) {
            rows.put(row.path("name").asText(), row);
        }
        return rows;
    }

    /** One site's row of {@code wg peer list}. */
    JsonNode row(Site site) {
        return control.peer(site.name);
    }

    /** The roster file as the relay last wrote it. */
    String rosterText() {
        try {
            return Files.readString(roster);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The relay's output, its own view, and every running WireGuard's, for failure messages. */
    String diagnostics() {
        StringBuilder text = new StringBuilder();
        text.append("--- relay ")
                .append(relay == null ? "(not started)" : relay.isAlive() ? "(running)" : "(exited)")
                .append(" output:\n")
                .append(relay == null ? "" : relay.output());
        if (relay != null && relay.isAlive()) {
            for (String verb : List.of("wg peer list", "wg show", "wg blocklist list")) {
                try {
                    text.append("--- ")
                            .append(verb)
                            .append(": ")
                            .append(control.call(verb))
                            .append('\n');
                } catch (RuntimeException | AssertionError e) {
                    text.append("--- ")
                            .append(verb)
                            .append(" failed: ")
                            .append(e.getMessage())
                            .append('\n');
                }
            }
            if (Files.exists(roster)) {
                text.append("--- roster:\n").append(rosterText());
            }
        }
        for (Site site : sites()) {
            text.append("--- ")
                    .append(site.name)
                    .append(": ")
                    .append(site.wg == null ? "(down)\n" : site.wg.describe());
        }
        return text.toString();
    }

    /** The lines of {@code ip -d link show dev NIC} in the relay namespace that show an XDP program. */
    private List<String> xdpOnRelayVeth(String nic) {
        return relayNs.ip("-d", "link", "show", "dev", nic)
                .stdout()
                .lines()
                .filter(l -> XDP_ON_LINK.matcher(l).find())
                .map(String::strip)
                .toList();
    }

    /**
     * Stops the relay (with XDP: and checks that it detached its program from every relay veth on
     * the way out), then everything else, newest first; then asserts that no namespace or process
     * of this run is left and that the relay exited 0 on SIGTERM (SPEC).
     */
    @Override
    public void close() {
        try {
            if (options.xdp() && relay != null) {
                assertEquals(0, relay.stop(), "wg-relay must exit 0 on SIGTERM; output:\n" + relay.output());
                for (Site site : sites()) {
                    Await.until(
                            Duration.ofSeconds(10),
                            "no XDP program on " + site.relayVeth + " after the relay stopped",
                            () -> xdpOnRelayVeth(site.relayVeth).isEmpty(),
                            () -> relayNs.ip("-d", "link", "show").stdout());
                }
            }
        } finally {
            topology.closeStopping(relay);
        }
    }
}
