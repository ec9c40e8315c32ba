package org.wgrelay.it.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;

/**
 * Decides whether a privileged test can run here: root, network namespaces, /dev/net/tun and the
 * external tools it names.
 *
 * <p>A developer box without them skips the test with a message naming what is missing. Under
 * {@code CI=true} the same message fails the run instead, so a CI image that lost a package cannot
 * turn the end-to-end tests into silent skips.
 *
 * <pre>{@code
 * Prerequisites.check().root().namespaces().tun().tools("ip", "wg", "wireguard-go", "ping").enforce();
 * }</pre>
 */
public final class Prerequisites {

    /** The Debian package that ships each tool, named in the message so the fix is one apt line. */
    private static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("ip", "iproute2"),
            Map.entry("ss", "iproute2"),
            Map.entry("wg", "wireguard-tools"),
            Map.entry("wireguard-go", "wireguard-go"),
            Map.entry("ping", "iputils-ping"),
            Map.entry("sysctl", "procps"),
            Map.entry("etcd", "etcd-server"),
            Map.entry("etcdctl", "etcd-client"),
            Map.entry("keepalived", "keepalived"),
            Map.entry("iptables", "iptables"),
            Map.entry("curl", "curl"));

    /** Where sbin tools live even when PATH (as under some CI runners) omits them. */
    private static final List<String> EXTRA_DIRS = List.of("/usr/local/sbin", "/usr/sbin", "/sbin");

    private final Set<String> missing = new LinkedHashSet<>();
    private boolean wantNamespaces;

    private Prerequisites() {}

    public static Prerequisites check() {
        return new Prerequisites();
    }

    /** The effective user must be root: namespaces, veths and TUN devices need it. */
    public Prerequisites root() {
        if (!isRoot()) {
            missing.add("root (effective uid 0)");
        }
        return this;
    }

    /** Creating a network namespace must work (not just be allowed on paper): probed at enforce. */
    public Prerequisites namespaces() {
        wantNamespaces = true;
        return this;
    }

    /** wireguard-go needs the TUN device node. */
    public Prerequisites tun() {
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            missing.add("/dev/net/tun (TUN device)");
        }
        return this;
    }

    /** Every named tool must be an executable on PATH or in an sbin directory. */
    public Prerequisites tools(String... names) {
        for (String name : names) {
            if (locate(name).isEmpty()) {
                String pkg = PACKAGES.get(name);
                missing.add("`" + name + "`" + (pkg == null ? "" : " (apt package " + pkg + ")"));
            }
        }
        return this;
    }

    /**
     * Every path must be a readable file (a build product such as the XDP helper); a missing one
     * is named with {@code howToMakeIt}, e.g. {@code "run make -C bpf"}.
     */
    public Prerequisites files(String howToMakeIt, Path... paths) {
        for (Path path : paths) {
            if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
                missing.add(path + " (" + howToMakeIt + ")");
            }
        }
        return this;
    }

    /** Skips the calling test (or fails it under CI=true) unless everything checked is present. */
    public void enforce() {
        if (wantNamespaces && missing.isEmpty() && !canCreateNamespace()) {
            missing.add("permission to create network namespaces (`ip netns add` failed)");
        }
        if (missing.isEmpty()) {
            return;
        }
        String message = "needs " + String.join(", ", missing);
        if ("true".equals(System.getenv("CI"))) {
            throw new IllegalStateException("CI=true and a prerequisite is missing: " + message);
        }
        Assumptions.abort("skipped: " + message + " (set CI=true to turn this into a failure)");
    }

    /** The absolute path of {@code tool}, or the bare name when it is nowhere to be found. */
    public static String which(String tool) {
        return locate(tool).map(Path::toString).orElse(tool);
    }

    private static Optional<Path> locate(String tool) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(EXTRA_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static boolean isRoot() {
        try {
            // "Uid:\treal\teffective\tsaved\tfs"
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return "0".equals(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    private static boolean canCreateNamespace() {
        String probe =
                "wgr-probe-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        String ip = which("ip");
        Command.Result added = Command.run(Duration.ofSeconds(10), List.of(ip, "netns", "add", probe));
        if (!added.succeeded()) {
            return false;
        }
        Command.run(Duration.ofSeconds(10), List.of(ip, "netns", "del", probe));
        return true;
    }
}
