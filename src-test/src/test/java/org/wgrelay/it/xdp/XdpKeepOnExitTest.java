package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.xdp.XdpRig.ALICE;
import static org.wgrelay.it.xdp.XdpRig.BOB;
import static org.wgrelay.it.xdp.XdpRig.RELAY_A;
import static org.wgrelay.it.xdp.XdpRig.RELAY_B;
import static org.wgrelay.it.xdp.XdpRig.RELAY_PORT;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayProcess;

/**
 * SPEC D, XDP: with {@code --xdp-keep-on-exit} the program and its maps outlive the relay
 * process. Transport data flows from alice to bob through the kernel path, numbered, while the
 * relay is stopped with SIGTERM, while no relay runs, and while a new relay starts and adopts
 * the kept program ({@code xdp_adopted}, the same program id): every datagram sent must arrive.
 * Then a relay without the flag adopts it too and, stopped, leaves no program and no pin.
 *
 * <p>The pins go to a BPF file system of this test's own ({@link PinFs}): the relays run through
 * {@code ip netns exec}, whose fresh {@code /sys} would hide {@code /sys/fs/bpf}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdpKeepOnExitTest {

    private static final int PEER_PORT = 40001;
    /** Datagrams alice sends per millisecond of the sender's pacing (a few thousand a second). */
    private static final int PER_MILLI = 3;

    private static final Pattern PROG_ID = Pattern.compile("prog/xdp id (\\d+)");

    private static XdpRig rig;
    private static PinFs pins;
    private static Path roster;
    private static UdpAgent alice;
    private static UdpAgent bob;
    /** The second relay of the first test, still running with the program kept. */
    private static RelayProcess kept;

    private static final WgPayloads WG = new WgPayloads(new SplittableRandom().nextLong());

    @BeforeAll
    static void startNamespacesAndPeers() {
        XdpRig.enforcePrerequisites(false);
        rig = XdpRig.create();
        pins = rig.topology.adopt(PinFs.mount(rig.topology.suffix()));
        roster = rig.roster(
                "peer alice " + ALICE + ":" + PEER_PORT, "peer bob " + BOB + ":" + PEER_PORT, "link alice bob");
        alice = rig.udpAgent(rig.aliceNs, ALICE, PEER_PORT);
        bob = rig.udpAgent(rig.bobNs, BOB, PEER_PORT);
    }

    @AfterAll
    static void leaveNothingBehind() {
        if (rig == null) {
            return;
        }
        try {
            if (kept != null) {
                kept.stop();
            }
        } finally {
            rig.close();
        }
        rig.topology.assertNothingLeft();
    }

    private static RelayProcess startRelay(boolean keep) {
        Map<String, String> env = new HashMap<>(XdpRig.helperEnv());
        env.put("WG_RELAY_XDP_PIN_ROOT", pins.root().toString());
        List<String> args =
                new ArrayList<>(List.of("--xdp-interface", rig.relayIfA + "," + rig.relayIfB, "--xdp-mode", "drv"));
        if (keep) {
            args.add("--xdp-keep-on-exit");
        }
        return RelayProcess.start(
                rig.relayNs, "0.0.0.0", RELAY_PORT, roster, 1, XdpRig.RELAY_STARTUP, env, args.toArray(String[]::new));
    }

    /** The id of the XDP program on {@code nic} in the relay namespace, or null when none runs. */
    private static Long progId(String nic) {
        for (String line : rig.xdpOn(rig.relayNs, nic)) {
            Matcher m = PROG_ID.matcher(line);
            if (m.find()) {
                return Long.parseLong(m.group(1));
            }
        }
        return null;
    }

    private static List<String> keptPins() {
        List<String> names = new ArrayList<>(List.of(
                "link",
                "prog",
                "wg_blocklist",
                "wg_config",
                "wg_macs",
                "wg_meta",
                "wg_nics",
                "wg_peer_stats",
                "wg_peers",
                "wg_sessions",
                "wg_stats",
                "wg_tx_ports"));
        names.sort(null);
        return names;
    }

    /** Alice sending numbered transport data to the relay until stopped, paced. */
    private static final class Sender implements AutoCloseable {
        final AtomicLong sent = new AtomicLong();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread = new Thread(this::run, "keep-on-exit-sender");

        Sender() {
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            while (running.get()) {
                for (int i = 0; i < PER_MILLI; i++) {
                    alice.send(RELAY_A, RELAY_PORT, NumberedTransport.datagram(sent.get()));
                    sent.incrementAndGet();
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** Waits until at least {@code n} datagrams were sent. */
        void awaitSent(long n, String why) {
            Await.until(
                    Duration.ofSeconds(60),
                    n + " datagrams sent " + why,
                    () -> sent.get() >= n,
                    () -> "sent " + sent.get());
        }

        /** Stops sending; returns how many were sent, numbered 0 .. n-1, all of them out of alice's socket. */
        long stop() throws InterruptedException {
            running.set(false);
            thread.join();
            alice.sync();
            return sent.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }

    @Test
    @Order(1)
    void keptProgramForwardsWhileNoRelayRunsAndTheNextRelayAdoptsItWithoutLosingADatagram() throws Exception {
        RelayProcess first = startRelay(true);
        // One datagram each way first: the program learns both next hops (the very first may go
        // up for want of a MAC, and userspace forwards it), so the numbered stream is kernel-only.
        Traffic.relayed(alice, RELAY_A, List.of(WG.transport()), bob, RELAY_B, java.util.Set.of());
        Traffic.relayed(bob, RELAY_B, List.of(WG.transport()), alice, RELAY_A, java.util.Set.of());
        Long progA = progId(rig.relayIfA);
        Long progB = progId(rig.relayIfB);
        assertNotNull(progA, "no program on " + rig.relayIfA + ":\n" + first.output());
        assertEquals(progA, progB, "one program on both NICs");
        assertEquals(keptPins(), pins.pins(rig.relayIfA), "pins while the relay runs with the flag");

        long stoppedAt;
        long restartedAt;
        long adoptedAt;
        long total;
        try (Sender sender = new Sender()) {
            sender.awaitSent(1_000, "before the stop");
            assertEquals(0, first.stop(), "SIGTERM exits 0:\n" + first.output());
            stoppedAt = sender.sent.get();
            assertEquals(List.of(), rig.processesInRelayNs(), "the relay and its helper are gone");
            assertEquals(progA, progId(rig.relayIfA), "the program stays attached to " + rig.relayIfA);
            assertEquals(progA, progId(rig.relayIfB), "the program stays attached to " + rig.relayIfB);
            assertEquals(keptPins(), pins.pins(rig.relayIfA), "pins after the relay ended");
            assertEquals(keptPins(), pins.pins(rig.relayIfB), "pins after the relay ended");

            sender.awaitSent(stoppedAt + 2_000, "while no relay runs");
            restartedAt = sender.sent.get();
            kept = startRelay(true);
            adoptedAt = sender.sent.get();
            sender.awaitSent(adoptedAt + 1_000, "after the new relay started");
            total = sender.stop();
        }
        BitSet got = NumberedTransport.receive(bob, total, RELAY_B + ":" + RELAY_PORT);
        int lost = (int) total - got.cardinality();
        long gap = countIn(got, stoppedAt, restartedAt);
        System.out.printf(
                "keep-on-exit: sent %d (%d before the stop, %d while no relay ran, %d while the new one started,"
                        + " %d after), received %d, of those while no relay ran %d, lost %d%n",
                total,
                stoppedAt,
                restartedAt - stoppedAt,
                adoptedAt - restartedAt,
                total - adoptedAt,
                got.cardinality(),
                gap,
                lost);
        assertEquals(restartedAt - stoppedAt, gap, "every datagram sent while no relay ran arrived");
        assertEquals(0, lost, "datagrams lost across the restart; first missing: " + firstMissing(got, total));

        String output = kept.output();
        for (String nic : List.of(rig.relayIfA, rig.relayIfB)) {
            assertTrue(
                    output.contains("xdp_adopted iface=" + nic + " prog_id=" + progA + " mode=drv"),
                    "no xdp_adopted line for " + nic + " with prog_id " + progA + ":\n" + output);
            assertEquals(progA, progId(nic), "adopting does not replace the program on " + nic);
        }
        assertTrue(kept.startupLine().contains(" xdp=drv "), kept.startupLine());

        // The new relay's counts start with it: not the kept program's totals from before.
        RelayControl control = RelayControl.of(kept, rig.relayNs);
        long fwd = control.show().get("xdp_fwd_packets");
        assertTrue(
                fwd >= total - adoptedAt && fwd <= total - stoppedAt,
                "xdp_fwd_packets " + fwd + " must count from the new relay's attach (sent after its start "
                        + (total - adoptedAt) + ", after the old one's stop " + (total - stoppedAt) + ")");
    }

    @Test
    @Order(2)
    void withoutTheFlagTheRelayAdoptsTooButLeavesNoProgramAndNoPinsOnSigterm() {
        assertNotNull(kept, "runs after the first test");
        Long prog = progId(rig.relayIfA);
        assertEquals(0, kept.stop(), kept.output());
        kept = null;
        assertEquals(prog, progId(rig.relayIfA), "kept again by the second relay");

        bob.drain(); // whatever the first test left
        RelayProcess plain = startRelay(false);
        assertTrue(
                plain.output().contains("xdp_adopted iface=" + rig.relayIfA + " prog_id=" + prog + " mode=drv"),
                plain.output());
        assertTrue(
                !pins.pins(rig.relayIfA).contains("link"),
                "without the flag the link is not pinned: " + pins.pins(rig.relayIfA));
        Traffic.relayed(alice, RELAY_A, WG.transports(20), bob, RELAY_B, java.util.Set.of());
        Traffic.relayed(bob, RELAY_B, WG.transports(20), alice, RELAY_A, java.util.Set.of());

        rig.assertStopsCleanly(plain);
        assertEquals(List.of(), pins.pins(rig.relayIfA), "no pins left for " + rig.relayIfA);
        assertEquals(List.of(), pins.pins(rig.relayIfB), "no pins left for " + rig.relayIfB);
        assertTrue(!Files.exists(pins.root()), "the pin root goes with the last NIC's pins");
    }

    private static long countIn(BitSet got, long from, long to) {
        return got.get((int) from, (int) to).cardinality();
    }

    private static List<Long> firstMissing(BitSet got, long total) {
        List<Long> missing = new ArrayList<>();
        for (int i = got.nextClearBit(0); i < total && missing.size() < 20; i = got.nextClearBit(i + 1)) {
            missing.add((long) i);
        }
        return missing;
    }
}
