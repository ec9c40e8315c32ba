package org.wgrelay.it.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A stock WireGuard peer: {@code wireguard-go -f <ifname>} running as a child process in a
 * namespace, configured with {@code wg set} and {@code ip}.
 *
 * <p>wireguard-go's control socket {@code /var/run/wireguard/<ifname>.sock} is not per namespace,
 * so {@code ifName} must be unique on the host; {@link Topology#interfaceName} makes it so.
 * Closing SIGTERMs wireguard-go, which removes its interface and socket; a socket left by a
 * killed process is deleted here so the name cannot haunt a later run.
 */
public final class WireGuardPeer implements AutoCloseable {

    private static final Path SOCKET_DIR = Path.of("/var/run/wireguard");
    private static final Duration STARTUP = Duration.ofSeconds(15);

    private final Netns ns;
    private final String ifName;
    private final String tunnelAddress;
    private final int listenPort;
    private final String publicKey;
    private final Path privateKeyFile;
    private final ChildProcess daemon;

    private WireGuardPeer(
            Netns ns,
            String ifName,
            String tunnelAddress,
            int listenPort,
            String publicKey,
            Path privateKeyFile,
            ChildProcess daemon) {
        this.ns = ns;
        this.ifName = ifName;
        this.tunnelAddress = tunnelAddress;
        this.listenPort = listenPort;
        this.publicKey = publicKey;
        this.privateKeyFile = privateKeyFile;
        this.daemon = daemon;
    }

    /**
     * Generates a key pair, starts wireguard-go on {@code ifName} inside {@code ns}, sets its
     * private key and fixed {@code listenPort}, assigns {@code tunnelCidr} and sets the link up.
     * Peers are added afterwards with {@link #addPeer}.
     */
    public static WireGuardPeer start(Netns ns, String ifName, int listenPort, String tunnelCidr, Path workDir) {
        return start(ns, ifName, listenPort, tunnelCidr, workDir, generatePrivateKey());
    }

    /** A fresh base64 private key from {@code wg genkey}. */
    public static String generatePrivateKey() {
        return Command.check(Netns.COMMAND_TIMEOUT, List.of(Prerequisites.which("wg"), "genkey"))
                .stdout()
                .strip();
    }

    /** The base64 public key of {@code privateKey}, from {@code wg pubkey}. */
    public static String publicKeyOf(String privateKey) {
        return Command.check(
                        Netns.COMMAND_TIMEOUT,
                        List.of(Prerequisites.which("wg"), "pubkey"),
                        (privateKey + "\n").getBytes(StandardCharsets.US_ASCII))
                .stdout()
                .strip();
    }

    /**
     * As {@link #start(Netns, String, int, String, Path)}, with a given base64 {@code privateKey}:
     * a peer whose public key must be known (stamped on the relay, configured on its partner)
     * before its daemon runs.
     */
    public static WireGuardPeer start(
            Netns ns, String ifName, int listenPort, String tunnelCidr, Path workDir, String privateKey) {
        String wg = Prerequisites.which("wg");
        String publicKey = publicKeyOf(privateKey);
        Path keyFile = workDir.resolve(ifName + ".key");
        try {
            Files.createFile(
                    keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(keyFile, privateKey + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        ChildProcess daemon = ns.spawn(
                "wireguard-go " + ifName,
                List.of(Prerequisites.which("wireguard-go"), "-f", ifName),
                Map.of("WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD", "1"));
        WireGuardPeer peer =
                new WireGuardPeer(ns, ifName, tunnelCidr.split("/")[0], listenPort, publicKey, keyFile, daemon);
        try {
            peer.awaitSocket();
            ns.exec(
                    Netns.COMMAND_TIMEOUT,
                    wg,
                    "set",
                    ifName,
                    "private-key",
                    keyFile.toString(),
                    "listen-port",
                    Integer.toString(listenPort));
            ns.ip("addr", "add", tunnelCidr, "dev", ifName);
            ns.ip("link", "set", ifName, "up");
        } catch (RuntimeException e) {
            try {
                peer.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return peer;
    }

    /** wireguard-go accepts `wg set` once its control socket exists. */
    private void awaitSocket() {
        Path socket = socket();
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (!Files.exists(socket)) {
            if (!daemon.isAlive()) {
                throw new IllegalStateException(
                        daemon.label() + " exited before creating " + socket + "; output:\n" + daemon.output());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(daemon.label() + " did not create " + socket + " within "
                        + STARTUP.toSeconds() + " s; output:\n" + daemon.output());
            }
            pause();
        }
    }

    /** Adds a peer reached at {@code endpoint} ({@code ip:port}) for {@code allowedIps}. */
    public void addPeer(String peerPublicKey, String endpoint, String allowedIps) {
        ns.exec(
                Netns.COMMAND_TIMEOUT,
                Prerequisites.which("wg"),
                "set",
                ifName,
                "peer",
                peerPublicKey,
                "endpoint",
                endpoint,
                "allowed-ips",
                allowedIps);
    }

    /** The endpoint WireGuard currently sends to for {@code peerPublicKey}, as `wg show` prints it. */
    public Optional<String> endpointOf(String peerPublicKey) {
        String endpoints = ns.exec(Netns.COMMAND_TIMEOUT, Prerequisites.which("wg"), "show", ifName, "endpoints")
                .stdout();
        for (String line : endpoints.split("\n")) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length == 2 && fields[0].equals(peerPublicKey) && !fields[1].equals("(none)")) {
                return Optional.of(fields[1]);
            }
        }
        return Optional.empty();
    }

    /** `wg show <ifname>` plus the daemon's output, for failure messages. */
    public String describe() {
        Command.Result show = ns.tryExec(Netns.COMMAND_TIMEOUT, Prerequisites.which("wg"), "show", ifName);
        return "wg show " + ifName + " in " + ns.name() + ":\n" + show.stdout() + show.stderr() + daemon.label()
                + " output:\n" + daemon.output();
    }

    public Netns namespace() {
        return ns;
    }

    public String interfaceName() {
        return ifName;
    }

    /** The tunnel address without prefix length, e.g. {@code 10.232.0.1}. */
    public String tunnelAddress() {
        return tunnelAddress;
    }

    public int listenPort() {
        return listenPort;
    }

    public String publicKey() {
        return publicKey;
    }

    private Path socket() {
        return SOCKET_DIR.resolve(ifName + ".sock");
    }

    @Override
    public void close() {
        try {
            daemon.stop(Duration.ofSeconds(5));
        } finally {
            try {
                Files.deleteIfExists(socket());
                Files.deleteIfExists(privateKeyFile);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "wireguard-go " + ifName + " in " + ns.name();
    }
}
