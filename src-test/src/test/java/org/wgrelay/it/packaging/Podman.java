package org.wgrelay.it.packaging;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;

/**
 * The podman command line as the container tests use it: every call carries {@code
 * CONTAINERS_CONF} (the repository's {@code scripts/podman-containers.conf} unless the environment
 * names another), which our CI machines need (cgroupfs, runc, no default ulimits).
 *
 * <p>A container gets "host networking inside a network namespace" through {@code nsenter
 * --net=/run/netns/NAME podman run --network host}, not {@code ip netns exec}: the latter also
 * remounts {@code /sys} for the namespace, which hides {@code /sys/fs/cgroup}, and runc then fails
 * with "no cgroup mount found in mountinfo".
 */
final class Podman {

    /** The repository root: surefire runs this module with {@code src-test/} as working directory. */
    static final Path REPO =
            Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();

    private final String containersConf;

    private Podman(String containersConf) {
        this.containersConf = containersConf;
    }

    static Podman fromEnvironment() {
        String conf = System.getenv("CONTAINERS_CONF");
        if (conf == null || conf.isBlank()) {
            conf = REPO.resolve("scripts/podman-containers.conf").toString();
        }
        return new Podman(conf);
    }

    String containersConf() {
        return containersConf;
    }

    /** {@code env CONTAINERS_CONF=... podman args...}. */
    List<String> argv(List<String> args) {
        List<String> argv = new ArrayList<>(List.of(
                Prerequisites.which("env"), "CONTAINERS_CONF=" + containersConf, Prerequisites.which("podman")));
        argv.addAll(args);
        return argv;
    }

    /** The argv that runs {@code podman args...} with {@code ns} as the host's network. */
    List<String> inNetworkOf(Netns ns, List<String> args) {
        List<String> argv = new ArrayList<>(List.of(Prerequisites.which("nsenter"), "--net=/run/netns/" + ns.name()));
        argv.addAll(argv(args));
        return argv;
    }

    Command.Result run(Duration timeout, String... args) {
        return Command.run(timeout, argv(List.of(args)));
    }

    Command.Result check(Duration timeout, String... args) {
        return Command.check(timeout, argv(List.of(args)));
    }

    boolean imageExists(String image) {
        return run(Duration.ofSeconds(30), "image", "exists", image).succeeded();
    }

    static boolean repositoryHasDockerfile() {
        return Files.isRegularFile(REPO.resolve("Dockerfile"));
    }
}
