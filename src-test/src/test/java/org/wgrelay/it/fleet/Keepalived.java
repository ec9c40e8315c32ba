package org.wgrelay.it.fleet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.wgrelay.it.netns.ChildProcess;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;

/**
 * keepalived (Debian's package) holding one VRRP virtual IP for a relay host, run in that host's
 * namespace in the foreground with its own pid files, so that several run side by side.
 *
 * <p>The configuration is what docs/fleet.md recommends: VRRPv3 with a 0.5 s advertisement
 * interval, every instance {@code BACKUP} with distinct priorities (the highest becomes master),
 * and a {@code vrrp_script} run every second whose failure puts the instance into FAULT. Entering
 * FAULT, the master sends a priority-0 advertisement, and the backup takes the address over after
 * its skew time (about 0.3 s) and announces it with gratuitous ARPs. A host that dies outright
 * (keepalived gone too) is replaced after the master-down interval, 3 × 0.5 s plus the skew.
 *
 * <p>The check is a shell command: for a relay, {@code curl} of its {@code /healthz}, which fails
 * at once when the process is gone and after curl's 1 s timeout when it hangs.
 */
public final class Keepalived implements AutoCloseable {

    public static final String MASTER = "Entering MASTER STATE";
    public static final String BACKUP = "Entering BACKUP STATE";
    public static final String FAULT = "Entering FAULT STATE";

    private static final Duration STATE = Duration.ofSeconds(30);

    private final Netns ns;
    private final String iface;
    private final String vip;
    private final ChildProcess daemon;

    private Keepalived(Netns ns, String iface, String vip, ChildProcess daemon) {
        this.ns = ns;
        this.iface = iface;
        this.vip = vip;
        this.daemon = daemon;
    }

    /**
     * The configuration of one host: VRRP instance {@code vrid} on {@code iface} for {@code vipCidr}
     * at {@code priority}, tracking {@code checkScript}.
     */
    public static String config(
            String routerId, String iface, int vrid, int priority, String vipCidr, Path checkScript) {
        return String.join(
                "\n",
                "global_defs {",
                "  router_id " + routerId,
                "  script_user root",
                "  enable_script_security",
                "}",
                "vrrp_script chk_relay {",
                "  script \"" + checkScript + "\"",
                "  interval 1",
                "  timeout 2",
                "  fall 1",
                "  rise 2",
                "}",
                "vrrp_instance relay {",
                "  state BACKUP",
                "  interface " + iface,
                "  virtual_router_id " + vrid,
                "  priority " + priority,
                "  version 3",
                "  advert_int 0.5",
                "  virtual_ipaddress {",
                "    " + vipCidr,
                "  }",
                "  track_script {",
                "    chk_relay",
                "  }",
                "}",
                "");
    }

    /**
     * Writes {@code checkCommand} as a script and the configuration into {@code workDir} (names
     * prefixed with {@code name}) and starts keepalived in {@code ns}; returns at once, before any
     * state is reached ({@link #awaitState}).
     */
    public static Keepalived start(
            Netns ns,
            String name,
            String iface,
            int vrid,
            int priority,
            String vipCidr,
            String checkCommand,
            Path workDir) {
        Prerequisites.check().tools("keepalived").enforce();
        Path script = workDir.resolve(name + "-check.sh");
        Path conf = workDir.resolve(name + "-keepalived.conf");
        try {
            Files.writeString(script, "#!/bin/sh\n" + checkCommand + "\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(conf, config(name, iface, vrid, priority, vipCidr, script));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChildProcess daemon = ns.spawn(
                "keepalived " + name,
                List.of(
                        Prerequisites.which("keepalived"),
                        "--dont-fork",
                        "--log-console",
                        "--log-detail",
                        "--use-file",
                        conf.toString(),
                        "--pid",
                        workDir.resolve(name + "-keepalived.pid").toString(),
                        "--vrrp_pid",
                        workDir.resolve(name + "-vrrp.pid").toString(),
                        "--checkers_pid",
                        workDir.resolve(name + "-checkers.pid").toString()),
                Map.of());
        return new Keepalived(ns, iface, vipCidr.split("/")[0], daemon);
    }

    /** Waits until keepalived logged {@code state} (e.g. {@link #MASTER}) at least once. */
    public void awaitState(String state) {
        daemon.awaitLine(line -> line.contains(state), STATE);
    }

    /** How many times keepalived logged {@code state} so far. */
    public long count(String state) {
        return daemon.output().lines().filter(line -> line.contains(state)).count();
    }

    /** Whether the virtual IP is on this host's interface now. */
    public boolean holdsVip() {
        return ns.ip("-4", "-o", "addr", "show", "dev", iface).stdout().contains(" " + vip + "/");
    }

    public String output() {
        return daemon.output();
    }

    /** SIGKILL: the host's keepalived dies with it and sends nothing more. */
    public void kill() {
        daemon.kill();
    }

    @Override
    public void close() {
        daemon.close();
    }

    @Override
    public String toString() {
        return daemon.toString();
    }
}
