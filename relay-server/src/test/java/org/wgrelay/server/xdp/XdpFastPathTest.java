package org.wgrelay.server.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
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
import org.wgrelay.server.table.PeerRuntime;

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
                clock::get);
        assertNull(xdp.attach());
        return xdp;
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
}
