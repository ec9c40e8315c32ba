package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.xdp.XdpRig.ALICE;
import static org.wgrelay.it.xdp.XdpRig.BOB;
import static org.wgrelay.it.xdp.XdpRig.RELAY_A;
import static org.wgrelay.it.xdp.XdpRig.RELAY_B;
import static org.wgrelay.it.xdp.XdpRig.RELAY_PORT;

import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Await;
import org.wgrelay.it.netns.RelayProcess;

/**
 * SPEC D with XDP: a relay with the program attached is taken over ({@code serve --takeover})
 * while alice sends numbered transport data to bob through the kernel path. The old relay hands
 * its program over (it stays attached, with the same id), the new relay adopts it as it runs
 * ({@code xdp_adopted}), and every datagram arrives. No {@code --xdp-keep-on-exit}: a takeover
 * keeps the program whatever the flag says.
 */
class XdpTakeoverTest {
    private static final int PEER_PORT = 40001;
    private static final int PER_MILLI = 3;
    private static final Pattern PROG_ID = Pattern.compile("prog/xdp id (\\d+)");
    private static final WgPayloads WG = new WgPayloads(new SplittableRandom().nextLong());

    @Test
    void aTakeoverHandsTheProgramOverAsItRunsAndNoDatagramIsLost() throws Exception {
        XdpRig.enforcePrerequisites(false);
        try (XdpRig rig = XdpRig.create()) {
            PinFs pins = rig.topology.adopt(PinFs.mount(rig.topology.suffix()));
            var roster = rig.roster(
                    "peer alice " + ALICE + ":" + PEER_PORT, "peer bob " + BOB + ":" + PEER_PORT, "link alice bob");
            UdpAgent alice = rig.udpAgent(rig.aliceNs, ALICE, PEER_PORT);
            UdpAgent bob = rig.udpAgent(rig.bobNs, BOB, PEER_PORT);
            Map<String, String> env = new HashMap<>(XdpRig.helperEnv());
            env.put("WG_RELAY_XDP_PIN_ROOT", pins.root().toString());
            String[] xdp = {"--xdp-interface", rig.relayIfA + "," + rig.relayIfB, "--xdp-mode", "drv"};

            RelayProcess old = rig.topology.adopt(
                    RelayProcess.start(rig.relayNs, "0.0.0.0", RELAY_PORT, roster, 1, XdpRig.RELAY_STARTUP, env, xdp));
            // One datagram each way first: the program learns both next hops.
            Traffic.relayed(alice, RELAY_A, List.of(WG.transport()), bob, RELAY_B, java.util.Set.of());
            Traffic.relayed(bob, RELAY_B, List.of(WG.transport()), alice, RELAY_A, java.util.Set.of());
            Long prog = progId(rig, rig.relayIfA);
            assertNotNull(prog, "no program on " + rig.relayIfA + ":\n" + old.output());

            long bobDropsBefore = rig.bobReceiveBufferErrors();
            long[] sent = {0};
            boolean[] running = {true};
            Thread sender = new Thread(() -> {
                while (running[0]) {
                    for (int i = 0; i < PER_MILLI; i++) {
                        alice.send(RELAY_A, RELAY_PORT, NumberedTransport.datagram(sent[0]));
                        synchronized (sent) {
                            sent[0]++;
                        }
                    }
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sender.setDaemon(true);
            sender.start();
            awaitSent(sent, 1_000);
            long takeoverAt;
            synchronized (sent) {
                takeoverAt = sent[0];
            }
            String[] takeover = {"--xdp-interface", rig.relayIfA + "," + rig.relayIfB, "--xdp-mode", "drv", "--takeover"
            };
            RelayProcess next = rig.topology.adopt(RelayProcess.start(
                    rig.relayNs, "0.0.0.0", RELAY_PORT, roster, 1, XdpRig.RELAY_STARTUP, env, takeover));
            assertEquals(OptionalInt.of(0), old.awaitExit(Duration.ofSeconds(15)), old.output());
            long after;
            synchronized (sent) {
                after = sent[0];
            }
            awaitSent(sent, after + 1_000);
            running[0] = false;
            sender.join();
            alice.sync();
            long total = sent[0];

            BitSet got = NumberedTransport.receive(bob, total, null);
            // On a busy machine the receiving agent can fall behind and its socket overflow:
            // those datagrams reached bob's host, so the relay did not lose them. Counted apart.
            long bobDrops = rig.bobReceiveBufferErrors() - bobDropsBefore;
            System.out.printf(
                    "xdp takeover: sent %d, received %d, dropped by the receiver's full socket %d%n",
                    total, got.cardinality(), bobDrops);
            assertEquals(
                    total,
                    got.cardinality() + bobDrops,
                    "datagrams lost across the takeover: " + (total - got.cardinality() - bobDrops) + "; missing from "
                            + got.nextClearBit(0) + " to " + got.previousClearBit((int) total - 1)
                            + " (takeover started at " + takeoverAt + ", old relay gone at " + after + ")\n--- old:\n"
                            + old.output() + "\n--- new:\n" + next.output());
            String out = next.output();
            assertTrue(out.contains("takeover from pid=" + old.pid()), out);
            assertTrue(old.output().contains("handed over to pid=" + next.pid()), old.output());
            for (String nic : List.of(rig.relayIfA, rig.relayIfB)) {
                assertTrue(
                        out.contains("xdp_adopted iface=" + nic + " prog_id=" + prog + " mode=drv"),
                        "the new relay adopts the running program on " + nic + ":\n" + out);
                assertEquals(prog, progId(rig, nic), "the same program runs on " + nic);
            }
            assertEquals(0, next.stop(), next.output());
        }
    }

    private static void awaitSent(long[] sent, long n) {
        Await.until(
                Duration.ofSeconds(60),
                n + " datagrams sent",
                () -> {
                    synchronized (sent) {
                        return sent[0] >= n;
                    }
                },
                () -> "sent " + sent[0]);
    }

    private static Long progId(XdpRig rig, String nic) {
        for (String line : rig.xdpOn(rig.relayNs, nic)) {
            Matcher m = PROG_ID.matcher(line);
            if (m.find()) {
                return Long.parseLong(m.group(1));
            }
        }
        return null;
    }
}
