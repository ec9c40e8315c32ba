package org.wgrelay.server.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.server.blocklist.Blocklist;
import org.wgrelay.server.counters.PeerStats;
import org.wgrelay.server.counters.RelayCounters;
import org.wgrelay.server.roster.Endpoint;
import org.wgrelay.server.roster.Roster;
import org.wgrelay.server.roster.RosterChange;
import org.wgrelay.server.table.ForwardingTable;
import org.wgrelay.server.table.ForwardingTableHolder;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.table.PeerRuntime;
import org.wgrelay.server.table.Route;
import org.wgrelay.server.table.SessionIndex;
import org.wgrelay.xdp.XdpPeer;

/**
 * The XDP fast path's loop against a scripted helper: the first attach and sync, and what
 * happens when the helper dies — reported detached, a new helper attached to every NIC and
 * given every map entry again, retried on the injected clock while starting one fails.
 * Attaches to {@code lo}, whose address and MAC every machine has.
 */
class XdpFastPathTest {
    private final AtomicLong clock = new AtomicLong(1_000_000L);
    private final List<ScriptedHelper> started = new ArrayList<>();
    private final ScriptedHelper first = new ScriptedHelper();
    private int refuseStarts;
    private boolean keepOnExit;
    private XdpFastPath xdp;

    private final XdpLauncher launcher = () -> {
        if (refuseStarts > 0) {
            refuseStarts--;
            throw new IOException("helper binary missing");
        }
        ScriptedHelper h = new ScriptedHelper();
        started.add(h);
        return h;
    };

    @AfterEach
    void close() {
        if (xdp != null) {
            xdp.close();
        }
    }

    private XdpFastPath aliceAndBobLinked() throws Exception {
        Roster r = Roster.EMPTY;
        r = ok(r.addPeer("alice", Endpoint.of(InetAddress.getByName("192.0.2.1"), 4001), null, null));
        r = ok(r.addPeer("bob", Endpoint.of(InetAddress.getByName("192.0.2.2"), 4002), null, null));
        r = ok(r.addLink("alice", "bob"));
        ForwardingTable table = ForwardingTable.build(r, name -> new PeerRuntime(new PeerStats(1)));
        xdp = new XdpFastPath(
                launcher,
                first,
                List.of("lo"),
                XdpMode.DRV,
                51820,
                new ForwardingTableHolder(table),
                new Blocklist(),
                new RelayCounters(1),
                keepOnExit,
                clock::get);
        assertNull(xdp.attach());
        return xdp;
    }

    private ForwardingTable hubTable;

    /** hub (192.0.2.10:4010) linked to s1 (192.0.2.11:4011) and s2 (192.0.2.12:4012), all keyed. */
    private XdpFastPath hubWithTwoSpokes() throws Exception {
        Roster r = Roster.empty(4);
        for (int i = 0; i < 3; i++) {
            byte[] key = new byte[32];
            key[0] = (byte) (i + 1);
            r = ok(r.addPeer(
                    i == 0 ? "hub" : "s" + i,
                    Endpoint.of(InetAddress.getByName("192.0.2." + (10 + i)), 4010 + i),
                    Base64.getEncoder().encodeToString(key),
                    null));
        }
        r = ok(r.addLink("hub", "s1"));
        r = ok(r.addLink("hub", "s2"));
        Map<String, PeerRuntime> runtimes = new HashMap<>(); // one per peer, as in the relay
        hubTable = ForwardingTable.build(
                r, name -> runtimes.computeIfAbsent(name, n -> new PeerRuntime(new PeerStats(1))));
        xdp = new XdpFastPath(
                launcher,
                first,
                List.of("lo"),
                XdpMode.DRV,
                51820,
                new ForwardingTableHolder(hubTable),
                new Blocklist(),
                new RelayCounters(1),
                false,
                clock::get);
        assertNull(xdp.attach());
        return xdp;
    }

    /** The commands that write maps: not the counter polls the periodic round may add at any time, nor read-backs. */
    private static List<String> mapWrites(ScriptedHelper helper) {
        synchronized (helper) {
            return helper.commands.stream()
                    .filter(c -> !c.equals("stats") && !c.equals("dump"))
                    .toList();
        }
    }

    /** Spoke {@code spoke}'s handshake with sender index {@code index} reached the hub now. */
    private void learn(String spoke, int index) {
        Route route = hubTable.routeOf(spoke);
        Partner toHub = route.solePartner();
        toHub.runtime().sessions().record(index, route.runtime().id(), toHub.ring(), clock.get());
    }

    @Test
    void aNewSessionReachesTheMapsAtTheNextSessionCheckThoughTheRosterDidNotChange() throws Exception {
        hubWithTwoSpokes();
        assertEquals(
                "0.0.0.0 0 0 " + XdpPeer.FLAG_HUB + " 1",
                first.peers.get("192.0.2.10 4010"),
                "the hub is written without a partner");
        synchronized (first) {
            first.commands.clear();
        }

        xdp.checkSessionsNow();
        assertEquals(List.of(), mapWrites(first), "no session index changed: nothing is written");

        learn("s1", 0x1234);
        learn("s2", 0x80000000);
        xdp.checkSessionsNow();

        assertEquals(
                Map.of("192.0.2.10 4010 4660", "192.0.2.11 4011 0", "192.0.2.10 4010 2147483648", "192.0.2.12 4012 0"),
                first.sessions);
        assertEquals(2, mapWrites(first).size(), "only the two sessions: " + first.commands);
    }

    @Test
    void aSweptSessionLeavesTheMapsAtTheNextSessionCheck() throws Exception {
        hubWithTwoSpokes();
        learn("s1", 7);
        xdp.checkSessionsNow();
        assertEquals(Set.of("192.0.2.10 4010 7"), first.sessions.keySet());

        clock.addAndGet(SessionIndex.TTL_MILLIS);
        hubTable.routeOf("hub").runtime().sessions().expire(clock.get()); // the owner's sweep
        xdp.checkSessionsNow();

        assertEquals(Map.of(), first.sessions);
        assertTrue(first.commands.contains("unsession 192.0.2.10 4010 7"), first.commands.toString());
    }

    @Test
    void aSessionExpiredByTimeLeavesTheMapsAtTheNextTickEvenUnswept() throws Exception {
        hubWithTwoSpokes();
        learn("s2", 9);
        xdp.tickNow();
        assertEquals(Set.of("192.0.2.10 4010 9"), first.sessions.keySet());

        clock.addAndGet(SessionIndex.TTL_MILLIS);
        xdp.tickNow();

        assertEquals(Map.of(), first.sessions);
    }

    @Test
    void aRestartedHelperIsGivenEveryLiveSessionAgain() throws Exception {
        hubWithTwoSpokes();
        learn("s1", 1);
        learn("s2", 2);
        xdp.checkSessionsNow();
        first.die();

        xdp.tickNow();

        assertEquals(1, started.size());
        assertEquals(first.sessions, started.get(0).sessions);
        assertEquals(2, started.get(0).sessions.size());
    }

    private static Roster ok(RosterChange c) {
        assertTrue(c.ok(), c.message());
        return c.roster();
    }

    @Test
    void attachesEveryNicThenWritesEveryLinkedEndpoint() throws Exception {
        aliceAndBobLinked();

        assertTrue(first.commands.contains("attach lo drv"), first.commands.toString());
        assertEquals(Set.of("192.0.2.1 4001", "192.0.2.2 4002"), first.peers.keySet());
        assertTrue(xdp.attached());
        assertEquals("drv", xdp.mode());
    }

    @Test
    void aDeadHelperIsReplacedReattachedAndGivenEveryMapEntryAgain() throws Exception {
        aliceAndBobLinked();
        first.die();

        xdp.tickNow();

        assertEquals(1, started.size(), "one new helper");
        ScriptedHelper second = started.get(0);
        assertTrue(second.commands.contains("attach lo drv"), second.commands.toString());
        assertEquals(first.peers.keySet(), second.peers.keySet(), "the new helper's empty maps are resynced");
        assertTrue(xdp.attached());
        assertEquals("drv", xdp.mode());
    }

    @Test
    void whileNoHelperCanBeStartedTheFastPathReportsDetachedAndRetriesEveryFewSeconds() throws Exception {
        aliceAndBobLinked();
        refuseStarts = 1;
        first.die();

        xdp.tickNow();
        assertFalse(xdp.attached(), "detached: userspace forwards everything");
        clock.addAndGet(HelperSupervisor.RESTART_INTERVAL_MILLIS - 1);
        xdp.tickNow();
        assertEquals(0, started.size(), "no retry before the interval");

        clock.addAndGet(1);
        xdp.tickNow();

        assertEquals(1, started.size());
        assertTrue(xdp.attached());
        assertEquals(2, started.get(0).peers.size());
    }

    @Test
    void withKeepOnExitTheHelperIsToldToKeepBeforeItsFirstAttach() throws Exception {
        keepOnExit = true;
        aliceAndBobLinked();

        List<String> commands = first.commands;
        assertTrue(commands.indexOf("onexit keep") >= 0, commands.toString());
        assertTrue(commands.indexOf("onexit keep") < commands.indexOf("attach lo drv"), commands.toString());
    }

    @Test
    void aHelperStartedAfterADeadOneIsToldToKeepAgainAndItsAdoptedMapsAreNotCleared() throws Exception {
        keepOnExit = true;
        aliceAndBobLinked();
        first.die(); // its program stays attached: the link is pinned

        xdp.tickNow();

        ScriptedHelper second = started.get(0);
        List<String> commands = second.commands;
        assertTrue(commands.indexOf("onexit keep") >= 0, commands.toString());
        assertTrue(commands.indexOf("onexit keep") < commands.indexOf("attach lo drv"), commands.toString());
        assertTrue(commands.contains("dump"), "resynced by difference: " + commands);
        assertFalse(commands.contains("clear"), commands.toString());
        assertTrue(xdp.attached());
    }

    @Test
    void aRelayHandingOverKeepsTheProgramAndStopsWritingTheMaps() throws Exception {
        aliceAndBobLinked();
        assertTrue(xdp.handOver(), "the helper agreed to keep");
        assertTrue(first.commands.contains("onexit keep"), first.commands.toString());
        int before;
        synchronized (first) {
            before = first.commands.size();
        }

        xdp.requestSync();
        xdp.tickNow();

        synchronized (first) {
            assertEquals(before, first.commands.size(), "no command after the handover: " + first.commands);
        }
    }

    @Test
    void aHelperThatCannotKeepFailsTheAttach() {
        keepOnExit = true;
        first.onexitKeep = "err onexit reason=pin in /sys/fs/bpf/wg-relay: Operation not supported";

        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, this::aliceAndBobLinked);
        assertTrue(e.getMessage().contains("Operation not supported"), e.getMessage());
        assertFalse(first.commands.contains("attach lo drv"), "nothing attached that could not be kept");
    }

    @Test
    void anAdoptedProgramKeepsTheEntriesTheRosterHasAndLosesTheOthers() throws Exception {
        // what a kept program's maps hold when this relay adopts it: alice and bob, and a
        // peer removed from the roster while no relay ran
        first.attachState = " state=adopted prog_id=7";
        first.port = 51820;
        first.peers.put("192.0.2.1 4001", "192.0.2.2 4002 0 0 3");
        first.peers.put("192.0.2.2 4002", "192.0.2.1 4001 0 0 3");
        first.peers.put("192.0.2.9 4009", "192.0.2.1 4001 0 0 3");

        aliceAndBobLinked();

        List<String> writes = mapWrites(first);
        assertTrue(writes.contains("unpeer 192.0.2.9 4009"), writes.toString());
        assertFalse(writes.contains("clear"), "the kernel forwards on: " + writes);
        assertFalse(writes.stream().anyMatch(c -> c.startsWith("peer ")), "kept entries not rewritten: " + writes);
        assertFalse(writes.stream().anyMatch(c -> c.startsWith("config ")), writes.toString());
        assertEquals(Set.of("192.0.2.1 4001", "192.0.2.2 4002"), first.peers.keySet());
    }
}
