package org.wgrelay.it.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.server.daemon.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code dist/wg-relay.service}, its XDP drop-in and its environment file: {@code systemd-analyze
 * verify} accepts them without a warning, the capabilities are exactly what each mode needs, and
 * the environment file names every {@code WG_RELAY_*} variable that {@code serve} reads.
 *
 * <p>This machine runs no systemd as PID 1, so the unit is verified, not started: the hardening
 * settings are checked here by name (none that breaks the JVM's JIT or XDP's capabilities).
 */
class SystemdUnitTest {

    private static final Path DIST = Podman.REPO.resolve("dist");
    private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:(WG_RELAY_[A-Z_]+)");

    @Test
    void systemdAnalyzeVerifiesTheUnitAndItsXdpDropInWithoutAWarning() throws IOException {
        Prerequisites.check().tools("systemd-analyze").enforce();
        Path dir = Files.createTempDirectory("wgr-unit-");
        try {
            // verify insists that ExecStart exists: point it at the launcher in this checkout.
            String unit = Files.readString(DIST.resolve("wg-relay.service"))
                    .replace("ExecStart=/opt/wg-relay/bin/wg-relay", "ExecStart=" + DIST.resolve("wg-relay"))
                    .replace(
                            "/opt/wg-relay/bin/wg-relay serve --takeover",
                            DIST.resolve("wg-relay") + " serve --takeover");
            Files.writeString(dir.resolve("wg-relay.service"), unit);
            Files.createDirectories(dir.resolve("wg-relay.service.d"));
            Files.copy(DIST.resolve("wg-relay-xdp.conf"), dir.resolve("wg-relay.service.d/xdp.conf"));
            Command.Result verify = Command.run(
                    Duration.ofSeconds(60),
                    List.of(
                            Prerequisites.which("env"),
                            "SYSTEMD_UNIT_PATH=" + dir + ":",
                            Prerequisites.which("systemd-analyze"),
                            "verify",
                            "wg-relay.service"));
            assertEquals(0, verify.exitCode(), verify.describe());
            assertEquals("", verify.stderr().strip(), "systemd-analyze verify must not warn");
            Command.Result security = Command.run(
                    Duration.ofSeconds(60),
                    List.of(
                            Prerequisites.which("env"),
                            "SYSTEMD_UNIT_PATH=" + dir + ":",
                            Prerequisites.which("systemd-analyze"),
                            "security",
                            "--offline=true",
                            "wg-relay.service"));
            String[] lines = security.stdout().strip().split("\n");
            System.out.println("systemd-analyze security (with the XDP drop-in): " + lines[lines.length - 1]);
        } finally {
            Command.run(Duration.ofSeconds(30), List.of("rm", "-rf", dir.toString()));
        }
    }

    @Test
    void theUserspacePathGetsNoCapabilityAndTheXdpDropInOnlyTheBpfOnes() throws IOException {
        List<String> unit = settings(DIST.resolve("wg-relay.service"));
        assertTrue(unit.contains("User=wg-relay"), "a dedicated user");
        assertTrue(unit.contains("StateDirectory=wg-relay"), "the roster's state directory");
        assertTrue(unit.contains("Environment=WG_RELAY_ROSTER=/var/lib/wg-relay/wg-roster"), "roster in it");
        assertTrue(unit.contains("Restart=on-failure"), "restart on failure");
        // SPEC D: reload is a takeover. The new relay outlives the reload command and tells
        // systemd it is the main process now, which needs a notify unit open to all its processes.
        assertTrue(
                unit.contains("ExecReload=/bin/sh -c '/opt/wg-relay/bin/wg-relay serve --takeover &'"),
                "systemctl reload starts a relay with --takeover in the background: " + unit);
        assertTrue(unit.contains("Type=notify"), "READY=1 and MAINPID= are heard");
        assertTrue(unit.contains("NotifyAccess=all"), "the new relay is not the main process when it notifies");
        assertTrue(unit.contains("EnvironmentFile=-/etc/wg-relay/wg-relay.env"), "the options' file");
        assertTrue(unit.contains("CapabilityBoundingSet="), "no capability for the userspace path");
        assertTrue(unit.contains("AmbientCapabilities="), "no ambient capability for the userspace path");
        assertTrue(unit.contains("NoNewPrivileges=yes"), "no privilege gain");
        // Each of these would break the relay: the JIT, XDP's capabilities, the network itself.
        for (String breaking : List.of("MemoryDenyWriteExecute=yes", "PrivateUsers=yes", "PrivateNetwork=yes")) {
            assertFalse(unit.contains(breaking), breaking + " must not be set");
        }
        List<String> xdp = settings(DIST.resolve("wg-relay-xdp.conf"));
        // The program loads with CAP_BPF alone (no CAP_PERFMON: it does no pointer arithmetic
        // the unprivileged verifier refuses) and attaches with CAP_NET_ADMIN.
        assertTrue(xdp.contains("CapabilityBoundingSet=CAP_NET_ADMIN CAP_BPF"), xdp.toString());
        assertTrue(xdp.contains("AmbientCapabilities=CAP_NET_ADMIN CAP_BPF"), xdp.toString());
        assertTrue(xdp.contains("SystemCallFilter=bpf"), "bpf(2) is outside @system-service: " + xdp);
    }

    @Test
    void theEnvironmentFileNamesEveryVariableThatServeReads() throws IOException {
        Set<String> read = new TreeSet<>();
        // Uninterpolated, the defaults read "${env:WG_RELAY_PORT:-51820}".
        CommandLine serve = new CommandLine(new ServeCommand()).setInterpolateVariables(false);
        for (OptionSpec option : serve.getCommandSpec().options()) {
            String spec = option.defaultValue();
            if (spec != null) {
                Matcher m = ENV_DEFAULT.matcher(spec);
                while (m.find()) {
                    read.add(m.group(1));
                }
            }
        }
        assertTrue(read.contains("WG_RELAY_PORT"), "serve's options carry their variables: " + read);
        String env = Files.readString(DIST.resolve("wg-relay.env"));
        List<String> missing = new ArrayList<>();
        for (String variable : read) {
            if (!env.contains(variable + "=")) {
                missing.add(variable);
            }
        }
        assertEquals(List.of(), missing, "dist/wg-relay.env must document every WG_RELAY_* option");
    }

    /** The unit's settings, one per line, comments and section headers dropped. */
    private static List<String> settings(Path file) throws IOException {
        List<String> settings = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String s = line.strip();
            if (!s.isEmpty() && !s.startsWith("#") && !s.startsWith(";") && !s.startsWith("[")) {
                settings.add(s);
            }
        }
        return settings;
    }
}
