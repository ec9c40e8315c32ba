package org.wgrelay.server.daemon;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.handover.HandoverClient;
import org.wgrelay.server.handover.HandoverException;
import org.wgrelay.server.handover.HandoverPath;
import org.wgrelay.server.handover.SocketRole;
import org.wgrelay.server.handover.Takeover;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterFileException;
import org.wgrelay.server.store.EtcdSettings;
import org.wgrelay.server.xdp.XdpAttachException;
import org.wgrelay.server.xdp.XdpMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code wg-relay serve}: parses and validates SPEC's options (each with its
 * {@code WG_RELAY_*} environment default), refuses to start with one clear line on
 * stderr when something is wrong, runs the relay, and on SIGTERM/SIGINT stops and
 * exits 0.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Run the relay daemon.",
        footer = "%nEvery option also reads WG_RELAY_<OPTION> from the environment, e.g. WG_RELAY_PORT.")
public final class ServeCommand implements Callable<Integer> {
    /** Exit status when the relay refuses to start. */
    public static final int EXIT_REFUSED = 1;
    /** How long a running relay has to answer a takeover's steps before this one gives up on it. */
    static final Duration TAKEOVER_TIMEOUT = Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Option(
            names = "--port",
            paramLabel = "N",
            defaultValue = "${env:WG_RELAY_PORT:-51820}",
            description = "UDP port of the relay (default: ${DEFAULT-VALUE}).")
    String port;

    @Option(
            names = "--bind",
            paramLabel = "ADDR",
            defaultValue = "${env:WG_RELAY_BIND:-0.0.0.0}",
            description = "Address to bind the UDP sockets to; :: for dual stack (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(
            names = "--workers",
            paramLabel = "N",
            defaultValue = "${env:WG_RELAY_WORKERS:-0}",
            description = "Event loops, each with its own SO_REUSEPORT socket (default: number of processors).")
    String workers;

    @Option(
            names = "--roster",
            paramLabel = "PATH",
            defaultValue = "${env:WG_RELAY_ROSTER:-./wg-roster}",
            description =
                    "Roster file, loaded at start and rewritten atomically after every change (default: ${DEFAULT-VALUE}).")
    String roster;

    @Option(
            names = "--control",
            paramLabel = "HOST:PORT",
            defaultValue = "${env:WG_RELAY_CONTROL:-127.0.0.1:51821}",
            description = "Control channel listener (default: ${DEFAULT-VALUE}).")
    String control;

    @Option(
            names = "--control-token-file",
            paramLabel = "PATH",
            defaultValue = "${env:WG_RELAY_CONTROL_TOKEN_FILE}",
            description = "Operator token file; when set, mutating verbs need the token.")
    String controlTokenFile;

    @Option(
            names = "--metrics",
            paramLabel = "HOST:PORT",
            defaultValue = "${env:WG_RELAY_METRICS:-127.0.0.1:9108}",
            description = "Prometheus scrape (/metrics) and health (/healthz, /readyz) (default: ${DEFAULT-VALUE}).")
    String metrics;

    @Option(
            names = "--xdp-interface",
            paramLabel = "NIC[,NIC]",
            defaultValue = "${env:WG_RELAY_XDP_INTERFACE}",
            description = "NICs to attach the XDP program to.")
    String xdpInterface;

    @Option(
            names = "--xdp-mode",
            paramLabel = "drv|skb|auto|off",
            defaultValue = "${env:WG_RELAY_XDP_MODE:-drv}",
            description = "XDP attach mode; auto tries drv then skb; off attaches nothing (default: ${DEFAULT-VALUE}).")
    String xdpMode;

    @Option(
            names = "--xdp-keep-on-exit",
            defaultValue = "${env:WG_RELAY_XDP_KEEP_ON_EXIT:-false}",
            fallbackValue = "true",
            arity = "0..1",
            description = "Leave the XDP program attached and pinned (/sys/fs/bpf/wg-relay/<nic>) when the relay"
                    + " stops, so the kernel forwards on; the next relay adopts it.")
    String xdpKeepOnExit;

    @Option(
            names = "--udp-gso",
            paramLabel = "on|off",
            defaultValue = "${env:WG_RELAY_UDP_GSO:-on}",
            description = "Send the datagrams a read batch forwards to one peer as one UDP GSO send; the"
                    + " peer receives them unchanged. Off with --trace-forward-hashes (default: ${DEFAULT-VALUE}).")
    String udpGso;

    @Option(
            names = "--trace-forward-hashes",
            defaultValue = "${env:WG_RELAY_TRACE_FORWARD_HASHES:-false}",
            fallbackValue = "true",
            arity = "0..1",
            description = "Log SHA-256 of every forwarded frame at ingress and egress (not for production).")
    String traceForwardHashes;

    @Option(
            names = "--max-links-per-peer",
            paramLabel = "N",
            defaultValue = "${env:WG_RELAY_MAX_LINKS_PER_PEER:-1}",
            description = "Links one peer may be in, 1.." + Roster.MAX_LINKS_PER_PEER_LIMIT
                    + "; above 1 a peer in several links is a hub, routed by MAC1 and session index"
                    + " (default: ${DEFAULT-VALUE}).")
    String maxLinksPerPeer;

    @Option(
            names = "--etcd-endpoints",
            paramLabel = "URL[,URL]",
            defaultValue = "${env:WG_RELAY_ETCD_ENDPOINTS}",
            description = "etcd members (http://HOST:PORT or https://...): share the roster and blocklist with a"
                    + " fleet of relays (SPEC C); --roster is then a cache.")
    String etcdEndpoints;

    @Option(
            names = "--etcd-prefix",
            paramLabel = "P",
            defaultValue = "${env:WG_RELAY_ETCD_PREFIX:-/wg-relay/}",
            description = "Key prefix of the fleet's roster in etcd (default: ${DEFAULT-VALUE}).")
    String etcdPrefix;

    @Option(
            names = "--relay-id",
            paramLabel = "ID",
            defaultValue = "${env:WG_RELAY_RELAY_ID}",
            description = "This relay's name in the fleet (relays/<ID>; default: the host name).")
    String relayId;

    @Option(
            names = "--etcd-ca-file",
            paramLabel = "PATH",
            defaultValue = "${env:WG_RELAY_ETCD_CA_FILE}",
            description = "CA certificate that signs the etcd members' certificates (TLS).")
    String etcdCaFile;

    @Option(
            names = "--etcd-cert-file",
            paramLabel = "PATH",
            defaultValue = "${env:WG_RELAY_ETCD_CERT_FILE}",
            description = "Client certificate for etcd (with --etcd-key-file).")
    String etcdCertFile;

    @Option(
            names = "--etcd-key-file",
            paramLabel = "PATH",
            defaultValue = "${env:WG_RELAY_ETCD_KEY_FILE}",
            description = "Client key for etcd, PKCS#8 PEM (with --etcd-cert-file).")
    String etcdKeyFile;

    @Option(
            names = "--etcd-user",
            paramLabel = "NAME",
            defaultValue = "${env:WG_RELAY_ETCD_USER}",
            description = "etcd user (with --etcd-password-file).")
    String etcdUser;

    @Option(
            names = "--etcd-password-file",
            paramLabel = "PATH",
            defaultValue = "${env:WG_RELAY_ETCD_PASSWORD_FILE}",
            description = "File holding the etcd user's password.")
    String etcdPasswordFile;

    @Option(
            names = "--takeover",
            defaultValue = "${env:WG_RELAY_TAKEOVER:-false}",
            fallbackValue = "true",
            arity = "0..1",
            description = "Take the sockets of the relay running on the same roster instead of binding new ones"
                    + " (a restart without loss); without one, start normally.")
    String takeover;

    @Option(
            names = "--log-level",
            paramLabel = "LEVEL",
            defaultValue = "${env:WG_RELAY_LOG_LEVEL:-info}",
            description = "trace, debug, info, warn or error (default: ${DEFAULT-VALUE}).")
    String logLevel;

    @Override
    public Integer call() {
        ServeConfig config;
        try {
            LogLevels.apply(logLevel);
            config = validate();
        } catch (IllegalArgumentException e) {
            System.err.println("wg-relay: " + e.getMessage());
            return EXIT_REFUSED;
        }
        Takeover handedOver = null;
        boolean takeoverWanted;
        try {
            takeoverWanted = parseFlag("--takeover", takeover);
        } catch (IllegalArgumentException e) {
            System.err.println("wg-relay: " + e.getMessage());
            return EXIT_REFUSED;
        }
        if (takeoverWanted) {
            try {
                handedOver = HandoverClient.takeOver(HandoverPath.of(config.roster()), TAKEOVER_TIMEOUT);
            } catch (HandoverException e) {
                System.err.println(
                        "wg-relay: takeover failed: " + e.getMessage() + "; the running relay keeps serving");
                return EXIT_REFUSED;
            }
            if (handedOver != null) {
                int sockets = handedOver.fds(SocketRole.UDP).size();
                if (sockets != config.workers()) {
                    // The sockets and their queues are what must not be lost: one worker each.
                    LOG.info(
                            "takeover: {} worker sockets handed over; running {} workers, not {}",
                            sockets,
                            sockets,
                            config.workers());
                    config = config.withWorkers(sockets);
                }
            }
        }
        RelayDaemon daemon;
        try {
            daemon = new RelayDaemon(config, System::currentTimeMillis);
        } catch (RosterFileException e) {
            abort(handedOver, "cannot load roster");
            System.err.println("wg-relay: cannot load roster: " + e.getMessage());
            return EXIT_REFUSED;
        }
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        try {
            daemon.start(handedOver);
        } catch (XdpAttachException e) {
            abort(handedOver, "cannot start");
            System.err.println(e.line()); // SPEC: the failed attach's one line, then a non-zero exit
            return EXIT_REFUSED;
        } catch (Exception e) {
            abort(handedOver, "cannot start");
            System.err.println("wg-relay: cannot start: " + e.getMessage());
            daemon.close();
            return EXIT_REFUSED;
        }
        if (handedOver != null) {
            try {
                completeTakeover(handedOver, daemon);
            } catch (XdpAttachException e) {
                System.err.println(e.line());
                daemon.close();
                return EXIT_REFUSED;
            }
        } else {
            SystemdNotify.ready(false);
        }
        daemon.listenForTakeover(stop::countDown);
        if (config.traceForwardHashes()) {
            org.slf4j.LoggerFactory.getLogger("org.wgrelay.trace")
                    .warn(
                            "--trace-forward-hashes is on: every forwarded frame is hashed and logged; not for production");
        }
        System.out.println(daemon.startupLine());
        System.out.flush();
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        daemon.close();
        return 0;
    }

    private ServeConfig validate() {
        int portN = parseInt("--port", port, 0, 65535);
        InetAddress bindAddress = parseBind(bind);
        int workersN = parseInt("--workers", workers, 0, 1024);
        if (workersN == 0) {
            workersN = Runtime.getRuntime().availableProcessors();
        }
        HostPort controlAddress = parseHostPort("--control", control);
        HostPort metricsAddress = parseHostPort("--metrics", metrics);
        String token =
                controlTokenFile == null || controlTokenFile.isBlank() ? null : readToken(Path.of(controlTokenFile));
        if (token == null && !controlAddress.isLoopback()) {
            throw new IllegalArgumentException("refusing to listen for control on non-loopback " + controlAddress
                    + " without --control-token-file");
        }
        int maxLinks = parseInt("--max-links-per-peer", maxLinksPerPeer, 1, Roster.MAX_LINKS_PER_PEER_LIMIT);
        XdpMode mode = XdpMode.parse(xdpMode);
        List<String> nics =
                xdpInterface == null || xdpInterface.isBlank() ? List.of() : List.of(xdpInterface.split(","));
        for (String nic : nics) {
            if (!nic.matches("[A-Za-z0-9][A-Za-z0-9._@-]{0,14}")) {
                throw new IllegalArgumentException("invalid --xdp-interface '" + nic + "'; expected NIC[,NIC]");
            }
        }
        boolean trace = parseFlag("--trace-forward-hashes", traceForwardHashes);
        return new ServeConfig(
                bindAddress,
                portN,
                workersN,
                Path.of(roster),
                controlAddress,
                token,
                metricsAddress,
                nics,
                mode,
                trace,
                maxLinks,
                etcdSettings(),
                parseFlag("--xdp-keep-on-exit", xdpKeepOnExit),
                parseFlag("--udp-gso", udpGso));
    }

    /** SPEC C's options, or null without {@code --etcd-endpoints}. */
    private EtcdSettings etcdSettings() {
        if (blank(etcdEndpoints)) {
            for (String other : new String[] {etcdCaFile, etcdCertFile, etcdKeyFile, etcdUser, etcdPasswordFile}) {
                if (!blank(other)) {
                    throw new IllegalArgumentException("the --etcd-* options need --etcd-endpoints");
                }
            }
            return null;
        }
        String prefix = etcdPrefix == null ? "/wg-relay/" : etcdPrefix.trim();
        if (prefix.isEmpty() || !prefix.matches("[\\x21-\\x7e]{1,256}")) {
            throw new IllegalArgumentException(
                    "invalid --etcd-prefix '" + etcdPrefix + "'; expected printable characters, e.g. /wg-relay/");
        }
        String id = blank(relayId) ? hostName() : relayId.trim();
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("invalid --relay-id '" + id + "'; expected 1-64 of A-Z a-z 0-9 . _ -");
        }
        return new EtcdSettings(
                EtcdSettings.parseEndpoints(etcdEndpoints),
                prefix,
                id,
                readableFile("--etcd-ca-file", etcdCaFile),
                readableFile("--etcd-cert-file", etcdCertFile),
                readableFile("--etcd-key-file", etcdKeyFile),
                blank(etcdUser) ? null : etcdUser.trim(),
                readableFile("--etcd-password-file", etcdPasswordFile));
    }

    /** The relay's default id: the host name, as SPEC C says. */
    static String hostName() {
        try {
            String h = InetAddress.getLocalHost().getHostName();
            int dot = h.indexOf('.');
            return dot > 0 ? h.substring(0, dot) : h;
        } catch (IOException e) {
            return "wg-relay";
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static Path readableFile(String option, String text) {
        if (blank(text)) {
            return null;
        }
        Path p = Path.of(text.trim());
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException("cannot read " + option + " " + p);
        }
        return p;
    }

    /**
     * The old relay has stopped reading once this returns: its totals are added, systemd is
     * told the new main pid (before the old one exits, so the unit stays active), and the
     * old relay is let go.
     */
    private static void completeTakeover(Takeover t, RelayDaemon daemon) throws XdpAttachException {
        try {
            daemon.inheritCounters(t.confirmRunning());
        } catch (HandoverException e) {
            LOG.warn(
                    "takeover: the relay pid={} did not confirm that it stopped ({}); it may serve alongside"
                            + " this one until it exits",
                    t.oldPid(),
                    e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        daemon.attachXdp(); // adopts the program the old relay handed over
        SystemdNotify.ready(true);
        try {
            t.finish();
        } catch (HandoverException e) {
            // The old relay is gone already.
        }
        LOG.info("takeover from pid={} sockets={}", t.oldPid(), t.socketCount());
    }

    private static void abort(Takeover t, String reason) {
        if (t != null) {
            t.abort(reason);
        }
    }

    private static boolean parseFlag(String option, String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off", "" -> false;
            default ->
                throw new IllegalArgumentException("invalid " + option + " '" + text + "'; expected true or false");
        };
    }

    private static int parseInt(String option, String text, int min, int max) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v < min || v > max) {
                throw new IllegalArgumentException(
                        "invalid " + option + " '" + text + "'; expected " + min + ".." + max);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + option + " '" + text + "'; expected a whole number");
        }
    }

    private static InetAddress parseBind(String text) {
        if (!text.matches("[0-9A-Fa-f:.]+")) {
            throw new IllegalArgumentException(
                    "invalid --bind '" + text + "'; expected an IP address such as 0.0.0.0 or ::");
        }
        try {
            return InetAddress.getByName(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "invalid --bind '" + text + "'; expected an IP address such as 0.0.0.0 or ::");
        }
    }

    private static HostPort parseHostPort(String option, String text) {
        try {
            return HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + option + ": " + e.getMessage());
        }
    }

    private static String readToken(Path file) {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --control-token-file " + file + ": " + e.getMessage());
        }
        if (token.isEmpty()) {
            throw new IllegalArgumentException("--control-token-file " + file + " is empty");
        }
        return token;
    }
}
