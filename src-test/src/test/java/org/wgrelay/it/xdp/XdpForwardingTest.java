package org.wgrelay.it.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.xdp.XdpRig.ALICE;
import static org.wgrelay.it.xdp.XdpRig.BOB;
import static org.wgrelay.it.xdp.XdpRig.RELAY_A;
import static org.wgrelay.it.xdp.XdpRig.RELAY_B;
import static org.wgrelay.it.xdp.XdpRig.RELAY_PORT;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.wgrelay.it.netns.RelayControl;
import org.wgrelay.it.netns.RelayControl.Counters;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.it.xdp.UdpAgent.Received;

/**
 * The XDP fast path on real veths (native mode): which datagrams the kernel forwards, which it
 * drops, and which it passes up to userspace, told apart by the relay's counters and by the
 * relay namespace's own {@code Udp: InDatagrams} (what reached a socket at all).
 *
 * <p>Two registered, linked endpoints are plain UDP sockets ({@link UdpAgent}); the datagrams are
 * WireGuard-shaped with random bodies. The tests share one relay and run in order: forwarding,
 * what goes up, what is dropped, then the changes that must move or stop the fast path (an
 * operator move, a link removal). Each compares counters before and after its own traffic.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdpForwardingTest {

    private static final int PEER_PORT = 40001;
    private static final int ALICE_NEW_PORT = 40002;
    /** A second address on alice's veth: a source the operator blocklists. */
    private static final String MALLORY = "10.250.1.66";

    private static final Duration COUNTERS = Duration.ofSeconds(20);

    private static XdpRig rig;
    private static RelayProcess relay;
    private static RelayControl control;
    private static UdpAgent alice;
    private static UdpAgent bob;
    /** Alice's socket on {@link #ALICE_NEW_PORT}, once the operator moved her there. */
    private static UdpAgent aliceMoved;

    private static final List<UdpAgent> AGENTS = new ArrayList<>();
    private static final long SEED = new SplittableRandom().nextLong();
    private static final WgPayloads WG = new WgPayloads(SEED);
    /** Payloads sent by {@link #probeUntil}, in hex: wherever they arrive, no check counts them. */
    private static final Set<String> PROBES = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void startRelayWithXdpOnBothVeths() {
        XdpRig.enforcePrerequisites(false);
        System.out.println("XdpForwardingTest payload seed " + SEED);
        rig = XdpRig.create();
        Path roster = rig.roster(
                "peer alice " + ALICE + ":" + PEER_PORT, "peer bob " + BOB + ":" + PEER_PORT, "link alice bob");
        relay = rig.startRelayOnBothVeths(roster, "drv");
        control = RelayControl.of(relay, rig.relayNs);
        alice = agent(ALICE, PEER_PORT, true);
        bob = agent(BOB, PEER_PORT, false);
    }

    private static UdpAgent agent(String ip, int port, boolean aliceSide) {
        UdpAgent a = rig.udpAgent(aliceSide ? rig.aliceNs : rig.bobNs, ip, port);
        AGENTS.add(a);
        return a;
    }

    @AfterAll
    static void stopRelayAndLeaveNothingBehind() {
        if (rig == null) {
            return;
        }
        rig.closeStopping(relay);
    }

    @Test
    @Order(0)
    void attachesInNativeModeToEveryNamedVethAndSaysSo() {
        String output = relay.output();
        assertTrue(relay.startupLine().contains(" xdp=drv "), relay.startupLine());
        for (String nic : List.of(rig.relayIfA, rig.relayIfB)) {
            String ifindex = rig.relayNs
                    .exec(Duration.ofSeconds(20), "cat", "/sys/class/net/" + nic + "/ifindex")
                    .stdout()
                    .strip();
            Pattern line = Pattern.compile(
                    "(^|\\s)xdp_attached iface=" + nic + " ifindex=" + ifindex + " mode=drv driver=\\? kernel="
                            + Pattern.quote(XdpRig.kernelRelease()) + "$",
                    Pattern.MULTILINE);
            assertTrue(line.matcher(output.replace("  | ", "")).find(), "no attach line for " + nic + ":\n" + output);
            List<String> xdp = rig.xdpOn(rig.relayNs, nic);
            assertTrue(
                    xdp.stream().anyMatch(l -> l.contains("prog/xdp") && l.contains("name wg_relay_xdp")),
                    "ip link on " + nic + ": " + xdp);
            assertFalse(rig.genericXdpOn(rig.relayNs, nic), nic + " must run native, not generic, XDP");
        }
        Counters show = control.show();
        assertTrue(show.json().path("xdp_attached").asBoolean(), show.json().toString());
        assertEquals("drv", show.json().path("xdp_mode").asText(), show.json().toString());
        for (String key : List.of("xdp_rx_packets", "xdp_fwd_packets", "xdp_pass_no_peer", "xdp_pass_no_mac")) {
            show.get(key);
        }
    }

    @Test
    @Order(1)
    void transportDataAndCookieRepliesBetweenLinkedPeersAreForwardedInTheKernel() {
        Counters before = control.settled();
        long upBefore = rig.udpInDatagrams();
        JsonNode aliceBefore = control.peer("alice");

        // Until a frame from bob's endpoint taught the program bob's MAC, alice's first datagram
        // goes up (pass_no_mac) and userspace forwards it; it teaches the program alice's MAC, so
        // bob's first one already rides the fast path.
        List<byte[]> firstAb = List.of(WG.transport());
        relayed(alice, RELAY_A, firstAb, bob, RELAY_B);
        List<byte[]> firstBa = List.of(WG.transport());
        relayed(bob, RELAY_B, firstBa, alice, RELAY_A);

        List<byte[]> ab = WG.dataMix(40);
        List<byte[]> ba = WG.dataMix(40);
        relayed(alice, RELAY_A, ab, bob, RELAY_B);
        relayed(bob, RELAY_B, ba, alice, RELAY_A);
        int total = 2 + ab.size() + ba.size();

        Counters after = awaitRx(before, total);
        long up = rig.udpInDatagrams() - upBefore;
        String why = why(before, after) + "\npassed up " + up;
        assertEquals(total, after.since(before, "fwd_packets"), why);
        assertEquals(total, after.since(before, "xdp_rx_packets"), why);
        long passNoMac = after.since(before, "xdp_pass_no_mac");
        assertTrue(passNoMac >= 1 && passNoMac <= 2, "only the first datagram each way may lack a MAC: " + why);
        assertEquals(0, after.since(before, "xdp_pass_no_peer"), why);
        assertEquals(total - passNoMac, after.since(before, "xdp_fwd_packets"), why);
        assertEquals(passNoMac, after.userFwd() - before.userFwd(), "userspace forwards only what went up: " + why);
        assertEquals(passNoMac, up, "the stack sees only what went up: " + why);

        // wg peer list adds the kernel's per-endpoint counts to userspace's.
        JsonNode aliceAfter = control.peer("alice");
        long aliceBytes = WgPayloads.bytes(firstAb) + WgPayloads.bytes(ab);
        assertEquals(
                1 + ab.size(),
                aliceAfter.path("rx_packets").asLong()
                        - aliceBefore.path("rx_packets").asLong(),
                "alice rx_packets " + aliceBefore + " -> " + aliceAfter);
        assertEquals(
                1 + ab.size(),
                aliceAfter.path("fwd_packets").asLong()
                        - aliceBefore.path("fwd_packets").asLong(),
                "alice fwd_packets " + aliceBefore + " -> " + aliceAfter);
        assertEquals(
                aliceBytes,
                aliceAfter.path("rx_bytes").asLong()
                        - aliceBefore.path("rx_bytes").asLong(),
                "alice rx_bytes " + aliceBefore + " -> " + aliceAfter);
        assertEquals(
                aliceBytes,
                aliceAfter.path("fwd_bytes").asLong()
                        - aliceBefore.path("fwd_bytes").asLong(),
                "alice fwd_bytes " + aliceBefore + " -> " + aliceAfter);
    }

    @Test
    @Order(2)
    void handshakesAlwaysGoUpToUserspaceWhichForwardsThem() {
        Counters before = control.settled();
        long upBefore = rig.udpInDatagrams();
        relayed(alice, RELAY_A, List.of(WG.initiation(), WG.response()), bob, RELAY_B);
        relayed(bob, RELAY_B, List.of(WG.response()), alice, RELAY_A);

        Counters after = awaitRx(before, 3);
        String why = why(before, after);
        assertEquals(3, after.since(before, "fwd_packets"), why);
        assertEquals(3, after.since(before, "xdp_rx_packets"), why);
        assertEquals(0, after.since(before, "xdp_fwd_packets"), why);
        assertEquals(0, after.since(before, "xdp_pass_no_peer") + after.since(before, "xdp_pass_no_mac"), why);
        assertEquals(3, rig.udpInDatagrams() - upBefore, "all three reached the relay's socket: " + why);
    }

    @Test
    @Order(3)
    void datagramsThatAreNotWireGuardShapedAreDroppedInTheKernel() {
        Counters before = control.settled();
        long upBefore = rig.udpInDatagrams();
        alice.sendAll(
                RELAY_A,
                RELAY_PORT,
                List.of(
                        WG.ofType(9, 100), // no such message type
                        WG.ofType(4, 20), // transport shorter than its header and tag
                        WG.ofType(1, 100), // initiation of the wrong length
                        WG.ofType(4 | 0x100, 100))); // a non-zero reserved byte

        Counters after = awaitRx(before, 4);
        String why = why(before, after);
        assertEquals(4, after.since(before, "drop_not_wg_shaped"), why);
        assertEquals(4, after.since(before, "xdp_rx_packets"), why);
        assertEquals(0, after.since(before, "fwd_packets"), why);
        assertEquals(0, rig.udpInDatagrams() - upBefore, "none may reach the relay's socket: " + why);
        assertEquals(List.of(), hexes(bob.drain()), "bob must receive none of them");
    }

    @Test
    @Order(4)
    void aBlocklistedSourceIsDroppedInTheKernelUntilItIsRemoved() {
        rig.aliceNs.ip("addr", "add", MALLORY + "/24", "dev", rig.aliceIf);
        UdpAgent mallory = agent(MALLORY, PEER_PORT, true);
        control.ctl("wg", "blocklist", "add", MALLORY, "60s");
        probeUntil(
                mallory,
                RELAY_A,
                "the blocklist entry to reach the kernel",
                (b, a, up) -> a.since(b, "drop_blocklisted") == 1 && up == 0);

        Counters before = control.settled();
        long upBefore = rig.udpInDatagrams();
        List<byte[]> flood = new ArrayList<>(WG.transports(20));
        flood.add(WG.initiation());
        flood.add(WG.ofType(7, 50)); // the blocklist comes before the shape check (SPEC rule 1)
        mallory.sendAll(RELAY_A, RELAY_PORT, flood);

        Counters after = awaitRx(before, flood.size());
        String why = why(before, after);
        assertEquals(flood.size(), after.since(before, "drop_blocklisted"), why);
        assertEquals(flood.size(), after.since(before, "xdp_rx_packets"), why);
        for (String key : List.of(
                "xdp_fwd_packets",
                "xdp_pass_no_peer",
                "xdp_pass_no_mac",
                "fwd_packets",
                "drop_unknown_src",
                "drop_not_wg_shaped",
                "drop_handshake_no_pubkey_match")) {
            assertEquals(0, after.since(before, key), key + ": " + why);
        }
        assertEquals(0, rig.udpInDatagrams() - upBefore, "userspace must not see a blocklisted source: " + why);
        assertEquals(List.of(), hexes(bob.drain()), "bob must receive nothing from a blocklisted source");
        JsonNode entry = null;
        for (JsonNode e : control.call("wg blocklist list").path("entries")) {
            if (MALLORY.equals(e.path("ip").asText())) {
                entry = e;
            }
        }
        assertNotNull(entry, "wg blocklist list must show " + MALLORY);
        long left = entry.path("seconds_left").asLong();
        assertTrue(left > 0 && left <= 60, "seconds_left " + entry);

        // Removal reaches the kernel too: the source is then merely unknown, and goes up.
        control.ctl("wg", "blocklist", "remove", MALLORY);
        probeUntil(
                mallory,
                RELAY_A,
                "the blocklist removal to reach the kernel",
                (b, a, up) -> a.since(b, "xdp_pass_no_peer") == 1 && a.since(b, "drop_unknown_src") == 1 && up == 1);
    }

    @Test
    @Order(5)
    void anOperatorMoveTakesTheFastPathToTheNewEndpointAndAwayFromTheOldOne() {
        UdpAgent aliceNew = agent(ALICE, ALICE_NEW_PORT, true);
        aliceMoved = aliceNew;
        control.ctl("wg", "peer", "update", "alice", ALICE + ":" + ALICE_NEW_PORT);
        assertEquals(
                ALICE + ":" + ALICE_NEW_PORT,
                control.peer("alice").path("endpoint").asText());
        probeUntil(
                aliceNew,
                RELAY_A,
                "the kernel to forward from alice's new endpoint",
                (b, a, up) -> a.since(b, "xdp_fwd_packets") == 1 && up == 0);

        Counters before = control.settled();
        long upBefore = rig.udpInDatagrams();
        relayed(aliceNew, RELAY_A, WG.dataMix(20), bob, RELAY_B);
        relayed(bob, RELAY_B, WG.dataMix(20), aliceNew, RELAY_A);
        Counters after = awaitRx(before, 40);
        String why = why(before, after);
        assertEquals(40, after.since(before, "xdp_fwd_packets"), why);
        assertEquals(40, after.since(before, "fwd_packets"), why);
        assertEquals(0, rig.udpInDatagrams() - upBefore, "nothing of the new endpoint's traffic goes up: " + why);

        // The old endpoint is an unknown source now: passed up, and dropped there.
        before = control.settled();
        upBefore = rig.udpInDatagrams();
        alice.sendAll(RELAY_A, RELAY_PORT, WG.transports(10));
        after = awaitRx(before, 10);
        why = why(before, after);
        assertEquals(10, after.since(before, "xdp_pass_no_peer"), why);
        assertEquals(10, after.since(before, "drop_unknown_src"), why);
        assertEquals(0, after.since(before, "xdp_fwd_packets"), why);
        assertEquals(0, after.since(before, "fwd_packets"), why);
        assertEquals(10, rig.udpInDatagrams() - upBefore, why);
        assertEquals(List.of(), hexes(bob.drain()), "bob must receive nothing from alice's old endpoint");
        assertEquals(List.of(), hexes(alice.drain()), "alice's old endpoint must receive nothing of bob's");
    }

    @Test
    @Order(6)
    void removingTheLinkStopsTheFastPathAndUserspaceDropsWithNoLink() {
        // Alice's socket at her registered endpoint: the moved one, unless the move test did not get that far.
        boolean moved = control.peer("alice").path("endpoint").asText().endsWith(":" + ALICE_NEW_PORT);
        UdpAgent aliceNow = moved && aliceMoved != null ? aliceMoved : alice;
        control.ctl("wg", "link", "remove", "alice", "bob");
        probeUntil(
                aliceNow,
                RELAY_A,
                "the link removal to reach the kernel",
                (b, a, up) -> a.since(b, "drop_no_link") == 1 && up == 1);

        Counters before = control.settled();
        long upBefore = rig.udpInDatagrams();
        long aliceNoLink = control.peer("alice").path("drop_no_link").asLong();
        aliceNow.sendAll(RELAY_A, RELAY_PORT, WG.dataMix(10));
        bob.sendAll(RELAY_B, RELAY_PORT, WG.dataMix(10));
        Counters after = awaitRx(before, 20);
        String why = why(before, after);
        assertEquals(20, after.since(before, "drop_no_link"), why);
        assertEquals(20, after.since(before, "xdp_pass_no_peer"), why);
        assertEquals(0, after.since(before, "xdp_fwd_packets"), why);
        assertEquals(0, after.since(before, "fwd_packets"), why);
        assertEquals(20, rig.udpInDatagrams() - upBefore, why);
        assertEquals(10, control.peer("alice").path("drop_no_link").asLong() - aliceNoLink, "alice's drop_no_link");
        assertEquals(List.of(), hexes(bob.drain()), "bob must receive nothing without a link");
        assertEquals(List.of(), hexes(aliceNow.drain()), "alice must receive nothing without a link");
    }

    @Test
    @Order(20)
    void aPeersCountersNeverGoBackwardsWhenItsEndpointMovesOrItsLinkGoes() {
        UdpAgent[] pair = linkedPair("carol", "dave", 40011);
        UdpAgent carol = pair[0];
        UdpAgent dave = pair[1];
        UdpAgent carolMoved = agent(ALICE, 40012, true);
        probeUntil(
                carol,
                RELAY_A,
                "the kernel to forward carol's datagrams",
                (b, a, up) -> a.since(b, "xdp_fwd_packets") == 1);
        relayed(carol, RELAY_A, WG.transports(10), dave, RELAY_B);
        JsonNode beforeMove = control.awaitPeer(
                "carol", COUNTERS, row -> row.path("rx_packets").asLong() >= 11);

        control.ctl("wg", "peer", "update", "carol", ALICE + ":40012");
        probeUntil(
                carolMoved,
                RELAY_A,
                "the kernel to forward from carol's new endpoint",
                (b, a, up) -> a.since(b, "xdp_fwd_packets") == 1);
        JsonNode afterMove = control.peer("carol");
        for (String key : List.of("rx_packets", "rx_bytes", "fwd_packets", "fwd_bytes")) {
            assertTrue(
                    afterMove.path(key).asLong() > beforeMove.path(key).asLong(),
                    key + " went backwards across the move: " + beforeMove + " -> " + afterMove);
        }

        control.ctl("wg", "link", "remove", "carol", "dave");
        probeUntil(
                carolMoved,
                RELAY_A,
                "the link removal to reach the kernel",
                (b, a, up) -> a.since(b, "drop_no_link") == 1);
        JsonNode afterUnlink = control.peer("carol");
        for (String key : List.of("rx_packets", "rx_bytes", "fwd_packets", "fwd_bytes")) {
            assertTrue(
                    afterUnlink.path(key).asLong() >= afterMove.path(key).asLong(),
                    key + " went backwards when the link went: " + afterMove + " -> " + afterUnlink);
        }
    }

    @Test
    @Order(21)
    void lastSeenAdvancesForAPeerWhoseTrafficTheKernelForwards() {
        UdpAgent[] pair = linkedPair("erin", "frank", 40021);
        UdpAgent erin = pair[0];
        UdpAgent frank = pair[1];
        long upBefore = rig.udpInDatagrams();
        relayed(erin, RELAY_A, WG.transports(5), frank, RELAY_B);
        Counters now = control.show();
        control.awaitPeer("erin", COUNTERS, row -> row.path("fwd_packets").asLong() >= 5);
        assertEquals(
                0,
                rig.udpInDatagrams() - upBefore,
                "precondition: the kernel forwarded all of erin's datagrams; " + now.json());
        assertFalse(
                control.peer("erin").path("last_seen").isNull(), "erin sent 5 datagrams, yet: " + control.peer("erin"));
    }

    /**
     * The program looks the blocklist up for a registered source only when the relay flagged
     * that source's entry; blocking a linked peer's IP must therefore flag it, or the kernel
     * would go on forwarding for it.
     */
    @Test
    @Order(22)
    void aLinkedPeerIsDroppedInTheKernelWhileItsIpIsBlocklisted() {
        UdpAgent[] pair = linkedPair("gina", "hank", 40031);
        UdpAgent gina = pair[0];
        UdpAgent hank = pair[1];
        onTheFastPath(gina, RELAY_A, hank, RELAY_B);

        control.ctl("wg", "blocklist", "add", BOB, "60s");
        probeUntil(
                hank,
                RELAY_B,
                "the blocklist entry to reach hank's fast path",
                (b, a, up) -> a.since(b, "drop_blocklisted") == 1 && up == 0);
        Counters before = control.settled();
        long upBefore = rig.udpInDatagrams();
        hank.sendAll(RELAY_B, RELAY_PORT, WG.dataMix(20));
        Counters after = awaitRx(before, 20);
        String why = why(before, after);
        assertEquals(20, after.since(before, "drop_blocklisted"), why);
        assertEquals(0, after.since(before, "xdp_fwd_packets"), why);
        assertEquals(0, after.since(before, "fwd_packets"), why);
        assertEquals(0, rig.udpInDatagrams() - upBefore, "userspace must not see a blocklisted source: " + why);
        assertEquals(List.of(), hexes(gina.drain()), "gina must receive nothing from a blocklisted peer");

        control.ctl("wg", "blocklist", "remove", BOB);
        probeUntil(
                hank,
                RELAY_B,
                "the kernel to forward hank's datagrams again",
                (b, a, up) -> a.since(b, "xdp_fwd_packets") == 1 && up == 0);
        relayed(hank, RELAY_B, WG.dataMix(10), gina, RELAY_A);
    }

    /**
     * An endpoint's kernel counts live in its map entry: what the kernel forwarded for it
     * since the last once-a-second poll must be counted when the entry goes, not lost.
     */
    @Test
    @Order(23)
    void whatTheKernelForwardedJustBeforeALinkGoesIsStillCounted() {
        UdpAgent[] pair = linkedPair("ivan", "judy", 40041);
        UdpAgent ivan = pair[0];
        UdpAgent judy = pair[1];
        onTheFastPath(judy, RELAY_B, ivan, RELAY_A);
        Counters before = control.settled();
        long fwdBefore = control.peer("ivan").path("fwd_packets").asLong();
        long upBefore = rig.udpInDatagrams();

        relayed(ivan, RELAY_A, WG.transports(25), judy, RELAY_B);
        control.ctl("wg", "link", "remove", "ivan", "judy"); // at once: no poll in between, most of the time
        assertEquals(0, rig.udpInDatagrams() - upBefore, "precondition: the kernel forwarded all 25");
        // Once the relay's totals hold the 25, a poll has read them; ivan's row comes from the same poll.
        Counters after = awaitRx(before, 25);
        assertEquals(
                fwdBefore + 25,
                control.peer("ivan").path("fwd_packets").asLong(),
                "ivan's fwd_packets must include the 25 the kernel forwarded; " + after.json());
    }

    /**
     * {@code wg show} and {@code wg peer list} poll the program's counters when asked: what the
     * kernel forwarded is in the very next answer, not only after the next once-a-second poll (a
     * relay that reported a second late made "all counts are in" unknowable, to tests and
     * operators alike). Three rounds, each read the moment the receiver has its datagrams.
     */
    @Test
    @Order(24)
    void whatTheKernelForwardedIsInTheVeryNextWgShowAndPeerList() {
        UdpAgent[] pair = linkedPair("kim", "lee", 40051);
        UdpAgent kim = pair[0];
        UdpAgent lee = pair[1];
        onTheFastPath(lee, RELAY_B, kim, RELAY_A);
        for (int round = 1; round <= 3; round++) {
            Counters before = control.settled();
            long kimBefore = control.peer("kim").path("fwd_packets").asLong();
            long upBefore = rig.udpInDatagrams();

            relayed(kim, RELAY_A, WG.transports(10), lee, RELAY_B);
            Counters after = control.show();
            long kimAfter = control.peer("kim").path("fwd_packets").asLong();

            String why = "round " + round + "\n" + why(before, after);
            assertEquals(0, rig.udpInDatagrams() - upBefore, "precondition: the kernel forwarded all 10; " + why);
            assertEquals(10, after.since(before, "xdp_fwd_packets"), why);
            assertEquals(10, after.since(before, "fwd_packets"), why);
            assertEquals(10, after.since(before, "rx_packets"), why);
            assertEquals(kimBefore + 10, kimAfter, "kim's fwd_packets in the next wg peer list; " + why);
        }
    }

    /**
     * Registers and links two more peers on {@code port}, one at alice's address and one at
     * bob's, and returns their sockets in that order.
     */
    private static UdpAgent[] linkedPair(String aliceSide, String bobSide, int port) {
        control.ctl("wg", "peer", "add", aliceSide, ALICE + ":" + port);
        control.ctl("wg", "peer", "add", bobSide, BOB + ":" + port);
        control.ctl("wg", "link", "add", aliceSide, bobSide);
        return new UdpAgent[] {agent(ALICE, port, true), agent(BOB, port, false)};
    }

    /**
     * Brings {@code sender}'s datagrams to {@code receiver} onto the kernel's path: one
     * datagram from the receiver teaches the program its MAC (whatever happens to that
     * datagram), then probes from the sender until the kernel forwards one.
     */
    private static void onTheFastPath(
            UdpAgent receiver, String receiverRelayIp, UdpAgent sender, String senderRelayIp) {
        probeUntil(receiver, receiverRelayIp, "the receiver's first datagram", (b, a, up) -> true);
        probeUntil(
                sender,
                senderRelayIp,
                "the kernel to forward the sender's datagrams",
                (b, a, up) -> a.since(b, "xdp_fwd_packets") == 1 && up == 0);
    }

    /** Both snapshots, for a failed assertion's message. */
    private static String why(Counters before, Counters after) {
        return "before " + before.json() + "\nafter  " + after.json();
    }

    private static void relayed(UdpAgent from, String relayIp, List<byte[]> payloads, UdpAgent to, String relaySource) {
        Traffic.relayed(from, relayIp, payloads, to, relaySource, PROBES);
    }

    private static List<String> hexes(List<Received> received) {
        return Traffic.hexes(received, PROBES);
    }

    /**
     * Waits until {@code wg show} has counted {@code n} more datagrams than {@code before}, and no
     * more: in {@code rx_packets} (userspace counts what goes up at once, the kernel's forwards and
     * drops arrive with the next stats poll) and in {@code xdp_rx_packets} (every one of them
     * crossed the program, whatever its verdict), so all the deltas are final.
     */
    private static Counters awaitRx(Counters before, int n) {
        long want = before.get("rx_packets") + n;
        long wantXdp = before.get("xdp_rx_packets") + n;
        Counters after = control.awaitShow(
                COUNTERS,
                "rx_packets to reach " + want + " and xdp_rx_packets " + wantXdp,
                c -> c.get("rx_packets") >= want && c.get("xdp_rx_packets") >= wantXdp);
        assertEquals(want, after.get("rx_packets"), "rx_packets overshot: " + after.json());
        assertEquals(wantXdp, after.get("xdp_rx_packets"), "xdp_rx_packets overshot: " + after.json());
        return after;
    }

    private interface ProbeVerdict {
        boolean accept(Counters before, Counters after, long passedUp);
    }

    /**
     * Sends single transport datagrams from {@code from} until one is handled as {@code verdict}
     * expects: the relay pushes a change into the maps just after the control verb returns, so a
     * test's counting starts only once the kernel acts on it. Receivers ignore the probes.
     */
    private static void probeUntil(UdpAgent from, String relayIp, String what, ProbeVerdict verdict) {
        long deadline = System.nanoTime() + COUNTERS.toNanos();
        List<String> seen = new ArrayList<>();
        while (true) {
            Counters before = control.settled();
            long up = rig.udpInDatagrams();
            byte[] probe = WG.transport();
            PROBES.add(HexFormat.of().formatHex(probe));
            from.sendAll(relayIp, RELAY_PORT, List.of(probe));
            Counters after = awaitRx(before, 1);
            long passedUp = rig.udpInDatagrams() - up;
            if (verdict.accept(before, after, passedUp)) {
                break;
            }
            seen.add(after.json() + " passed up " + passedUp);
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out waiting for " + what + "; probes: " + seen + "\nrelay output:\n" + relay.output());
            }
        }
    }
}
