package org.wgrelay.server.xdp;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.xdp.AbiLayout;
import org.wgrelay.xdp.AttachResult;
import org.wgrelay.xdp.HelperChannel;
import org.wgrelay.xdp.XdpNic;

/**
 * Keeps one XDP helper alive and attached to every configured NIC: the first attach (with
 * the ABI check), and, when the helper dies, a new helper attached again, retried every
 * {@link #RESTART_INTERVAL_MILLIS}. A helper's exit detaches the program, so while none
 * is attached userspace forwards everything, correctly — unless the program is kept
 * ({@code --xdp-keep-on-exit}): then it forwards on in the kernel, and the new helper
 * adopts it. An attach may find a program an earlier relay kept: adopted as it runs
 * ({@code xdp_adopted}) or replaced in place when its build differs.
 *
 * <p>Written only on the XDP thread; what other threads read ({@link #attached},
 * {@link #mode}, {@link #helper}) is published through volatile fields holding immutable
 * values.
 */
final class HelperSupervisor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HelperSupervisor.class);
    static final long RESTART_INTERVAL_MILLIS = 5_000;

    /** The NICs as attached by the current helper: details by name, and the mode each got. */
    record Attachments(Map<String, XdpNic> nics, Map<String, String> modes) {
        static final Attachments NONE = new Attachments(Map.of(), Map.of());

        Attachments {
            nics = Map.copyOf(nics);
            modes = Map.copyOf(modes);
        }
    }

    private final XdpLauncher launcher;
    private final LongSupplier clockMillis;
    private final List<String> interfaces;
    private final XdpMode requested;
    private volatile boolean keepOnExit;
    private volatile HelperChannel helper;
    private volatile Attachments attachments = Attachments.NONE;
    private volatile boolean attached;
    private long nextRestartMillis;

    HelperSupervisor(
            XdpLauncher launcher,
            HelperChannel first,
            List<String> interfaces,
            XdpMode requested,
            boolean keepOnExit,
            LongSupplier clockMillis) {
        this.launcher = launcher;
        this.helper = first;
        this.interfaces = List.copyOf(interfaces);
        this.requested = requested;
        this.keepOnExit = keepOnExit;
        this.clockMillis = clockMillis;
    }

    /** Attaches the first helper; the first failure's result (the caller refuses to start), or null. */
    AttachResult attach() throws IOException {
        AttachResult failed = attachAll(helper);
        attached = failed == null;
        return failed;
    }

    HelperChannel helper() {
        return helper;
    }

    /** False while the helper is dead and being restarted. */
    boolean attached() {
        return attached;
    }

    Map<String, XdpNic> nics() {
        return attachments.nics();
    }

    /** The achieved attach mode: {@code skb} if any NIC runs in generic mode, else {@code drv}. */
    String mode() {
        Map<String, String> modes = attachments.modes();
        return modes.containsValue("skb") ? "skb" : modes.isEmpty() ? "off" : "drv";
    }

    /**
     * Checks the helper; when it died, reports detached and tries (at most every
     * {@link #RESTART_INTERVAL_MILLIS}) a new one. True when a new helper is attached: its
     * maps are empty, so the caller resyncs them. XDP thread only.
     */
    boolean restartIfDead() {
        if (attached && helper.alive()) {
            return false;
        }
        if (attached) {
            attached = false;
            LOG.error("the XDP helper exited; the fast path is detached and userspace forwards everything"
                    + " until a new helper is attached");
        }
        long now = clockMillis.getAsLong();
        if (now < nextRestartMillis) {
            return false;
        }
        nextRestartMillis = now + RESTART_INTERVAL_MILLIS;
        helper.close();
        try {
            HelperChannel fresh = launcher.open();
            AttachResult failed = attachAll(fresh);
            if (failed != null) {
                fresh.close();
                LOG.error("re-attaching the XDP program failed: {}", failed.logLine());
                return false;
            }
            helper = fresh;
            attached = true;
            LOG.info("XDP helper restarted and re-attached");
            return true;
        } catch (IOException e) {
            LOG.error("restarting the XDP helper failed: {}", e.getMessage());
            return false;
        }
    }

    /** Checks the ABI and attaches every NIC through {@code h}; the first failure, or null. */
    private AttachResult attachAll(HelperChannel h) throws IOException {
        Map<String, String> drift = AbiLayout.mismatches(AbiLayout.parse(h.callMulti("abi")));
        if (!drift.isEmpty()) {
            throw new IOException("the XDP helper's struct layout differs from ours: " + drift);
        }
        if (keepOnExit) {
            // Before the attaches: from the first one on, no exit of the helper (a SIGKILL
            // of this JVM included) may detach what is to be kept.
            String answer = h.call("onexit keep");
            if (!answer.equals("ok onexit keep")) {
                throw new IOException("--xdp-keep-on-exit: " + answer.replaceFirst("^err onexit reason=", ""));
            }
        }
        Map<String, XdpNic> nics = new LinkedHashMap<>();
        Map<String, String> modes = new LinkedHashMap<>();
        for (String nic : interfaces) {
            AttachResult r = AttachResult.parse(h.call("attach " + nic + " " + requested.word()));
            if (!r.ok()) {
                return r;
            }
            if (r.fallback() != null) {
                LOG.info("xdp auto mode on {}: native attach failed ({}), using skb", nic, r.fallback());
            }
            LOG.info(r.logLine());
            if (r.replacedLine() != null) {
                LOG.info(r.replacedLine());
            }
            modes.put(nic, r.mode());
            nics.put(nic, NicDetails.describe(nic, r.ifindex()));
        }
        attachments = new Attachments(nics, modes);
        return null;
    }

    /**
     * From now on the current helper leaves the program attached when it ends (and so does
     * any helper started after it): {@code onexit keep}. True when the helper agreed. XDP
     * thread only.
     */
    boolean keepFromNowOn() {
        if (!attached) {
            return false;
        }
        try {
            String answer = helper.call("onexit keep");
            if (!answer.equals("ok onexit keep")) {
                LOG.error("the XDP helper cannot keep the program: {}", answer);
                return false;
            }
        } catch (IOException e) {
            LOG.error("the XDP helper cannot keep the program: {}", e.getMessage());
            return false;
        }
        keepOnExit = true;
        return true;
    }

    /**
     * Closes the helper, which detaches the program from every NIC — or, with
     * {@code --xdp-keep-on-exit}, leaves it attached and pinned for the next relay.
     */
    @Override
    public void close() {
        helper.close();
        if (keepOnExit && attached) {
            LOG.info(
                    "XDP program left attached on {} (--xdp-keep-on-exit): the kernel forwards on until the next"
                            + " relay adopts it",
                    String.join(",", interfaces));
        }
    }
}
