package org.wgrelay.it.xdp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;

/**
 * A BPF file system of one test's own, for the relay's pins ({@code WG_RELAY_XDP_PIN_ROOT}).
 * The relay runs through {@code ip netns exec}, which mounts a new {@code /sys} for it: a pin
 * under {@code /sys/fs/bpf} would live in that command's mount namespace and die with it, so
 * no second relay could adopt what the first kept. Mounted in the test's own namespace under
 * {@code /run}, it is seen by every relay the test starts, and by nothing else. Closing
 * unmounts it, which drops every pin left (and with a pinned link, the program it held).
 */
final class PinFs implements AutoCloseable {
    private static final Duration COMMAND = Duration.ofSeconds(20);

    private final Path mount;

    private PinFs(Path mount) {
        this.mount = mount;
    }

    /** Mounts a fresh BPF file system at {@code /run/wgr-<suffix>-bpffs}. */
    static PinFs mount(String suffix) {
        Path dir = Path.of("/run", "wgr-" + suffix + "-bpffs");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Command.check(COMMAND, List.of(Prerequisites.which("mount"), "-t", "bpf", "bpf", dir.toString()));
        return new PinFs(dir);
    }

    /** What the relay gets as {@code WG_RELAY_XDP_PIN_ROOT}: where {@code /sys/fs/bpf/wg-relay} would be. */
    Path root() {
        return mount.resolve("wg-relay");
    }

    /** The names pinned for {@code nic}, sorted; empty when its directory does not exist. */
    List<String> pins(String nic) {
        Path dir = root().resolve(nic);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        Command.run(COMMAND, List.of(Prerequisites.which("umount"), mount.toString()));
        try {
            Files.deleteIfExists(mount);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "bpffs " + mount;
    }
}
