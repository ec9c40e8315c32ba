package org.wgrelay.it.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.hub.HubAndSpokes.Site;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.Prerequisites;

/**
 * A spoke of a hub roams (SPEC 0.3 B, rules 3, 8, 9): spoke 3's wireguard-go moves to a new source
 * port mid-session, as behind a NAT that picked a new mapping, and the relay commits the new
 * endpoint with no operator action. Nothing tells the relay or wireguard-go about the move: spoke
 * 3's sends from the new port are dropped until its WireGuard gives up on the old session and
 * initiates again (KEEPALIVE + REKEY_TIMEOUT, 15 s). That initiation's MAC1 names the hub, which
 * has three partners, so the relay cannot tell which spoke sent it: it registers an unidentified
 * candidate, which the hub's answer identifies (its MAC1 verifies against spoke 3's key only),
 * and the hub's transport data on the new session commits it. Spokes 1 and 2 ping the hub the
 * whole time and must not notice.
 */
class HubSpokeRoamingEndToEndTest {

    private static final int SPOKE3_NEW_PORT = 51003;
    private static final Duration HANDSHAKE = Duration.ofSeconds(30);
    /** wireguard-go re-initiates 15 s after its data went unanswered; then one handshake and a ping. */
    private static final Duration RECOVERY = Duration.ofSeconds(75);
    /** Consecutive lost pings (each waits 2 s) that still count as an undisturbed tunnel on a busy host. */
    private static final int MAX_OUTAGE = 2;

    /** The relay, the hub and three spokes, afresh; JUnit closes it after the test, failed or not. */
    @AutoClose
    private final HubAndSpokes fixture = HubAndSpokes.start(new HubAndSpokes.Options(false, false));

    @Test
    void spoke3MovingToANewPortIsCommittedWhileSpokes1And2KeepTheirEndpointsAndTunnels() {
        fixture.startAll();
        Site hub = fixture.hub;
        Site spoke1 = fixture.spoke(1);
        Site spoke2 = fixture.spoke(2);
        Site spoke3 = fixture.spoke(3);
        for (Site spoke : fixture.spokes) {
            fixture.awaitPing(spoke, hub, HANDSHAKE);
        }
        String newEndpoint = spoke3.underlay() + ":" + SPOKE3_NEW_PORT;
        assertEquals(spoke3.endpoint(), fixture.row(spoke3).path("endpoint").asText(), fixture.diagnostics());

        long moved;
        long back;
        Pinger pings1 = Pinger.start(fixture, spoke1, hub);
        Pinger pings2 = Pinger.start(fixture, spoke2, hub);
        try {
            spoke3.ns.exec(
                    Duration.ofSeconds(20),
                    Prerequisites.which("wg"),
                    "set",
                    spoke3.wg.interfaceName(),
                    "listen-port",
                    Integer.toString(SPOKE3_NEW_PORT));
            moved = System.nanoTime();
            fixture.poll(RECOVERY, "spoke3's pings to cross the tunnel again after its move", () -> {
                othersHaveNotMoved();
                return fixture.ping(spoke3, hub, 2);
            });
            back = System.nanoTime();
            // The commit's roster half runs on the relay's owner thread, just after the packet
            // that decided it was forwarded to the new endpoint.
            fixture.poll(Duration.ofSeconds(15), "wg peer list to show spoke3 at " + newEndpoint, () -> {
                othersHaveNotMoved();
                return newEndpoint.equals(fixture.row(spoke3).path("endpoint").asText());
            });
            // A few more rounds of the other spokes' pings after the commit.
            int after = pings1.sent() + 5;
            fixture.poll(
                    Duration.ofSeconds(60),
                    "five more pings from spoke1 after the commit",
                    () -> pings1.sent() >= after);
        } finally {
            pings1.close();
            pings2.close();
        }
        System.out.printf(
                "tunnel back %.1f s after spoke3 moved; %s; %s%n",
                (back - moved) / 1e9, pings1.summary(), pings2.summary());

        JsonNode row = fixture.row(spoke3);
        String why = "spoke3's row of wg peer list: " + row + "\n" + fixture.diagnostics();
        assertEquals(newEndpoint, row.path("endpoint").asText(), why);
        assertEquals(1, row.path("endpoint_relearn").asLong(), why);
        assertTrue(row.path("candidate_endpoint").isNull(), why);
        assertEquals(hub.name, row.path("linked_to").asText(), why);
        othersHaveNotMoved();
        assertEquals(0, fixture.control.counter("drop_relearn_unconfirmed"), fixture.diagnostics());
        assertEquals(
                0, fixture.control.call("wg blocklist list").path("entries").size(), fixture.diagnostics());

        String log = fixture.relay.output();
        assertTrue(log.contains("relearn peer=spoke3 endpoint=" + newEndpoint), "no relearn line\n" + log);
        for (Site other : List.of(hub, spoke1, spoke2)) {
            assertFalse(log.contains("relearn peer=" + other.name + " "), "a relearn of " + other + "\n" + log);
        }
        String roster = fixture.rosterText();
        assertTrue(
                roster.lines()
                        .anyMatch(
                                line -> line.strip().startsWith("peer spoke3 " + newEndpoint + " " + spoke3.publicKey)),
                "the roster file must carry spoke3's new endpoint and its key:\n" + roster);
        assertTrue(
                roster.lines().noneMatch(line -> line.contains(spoke3.endpoint())),
                "the roster file still names spoke3's old endpoint:\n" + roster);

        for (Pinger pinger : List.of(pings1, pings2)) {
            String summary = pinger.summary() + "\n" + fixture.diagnostics();
            assertTrue(pinger.longestOutage() <= MAX_OUTAGE, "a tunnel to the hub was disturbed: " + summary);
            assertTrue(pinger.lastAnswered(), summary);
        }

        // The tunnel stays up on the new endpoint, in both directions of the relay.
        Command.Result fromSpoke3 = fixture.tunnel(spoke3, hub).ping(5, "0.2");
        assertTrue(
                fromSpoke3.succeeded() && fromSpoke3.stdout().contains(" 5 received"),
                "5 of 5 pings from spoke3 after the relearn: " + fromSpoke3.describe() + "\n" + fixture.diagnostics());
        Command.Result fromHub = fixture.tunnel(hub, spoke3).ping(5, "0.2");
        assertTrue(
                fromHub.succeeded() && fromHub.stdout().contains(" 5 received"),
                "5 of 5 pings from the hub to spoke3 after the relearn: " + fromHub.describe() + "\n"
                        + fixture.diagnostics());
    }

    /** The invariant of the whole test: the hub, spoke 1 and spoke 2 stay where they were registered. */
    private void othersHaveNotMoved() {
        Map<String, JsonNode> rows = fixture.rows();
        for (Site site : List.of(fixture.hub, fixture.spoke(1), fixture.spoke(2))) {
            JsonNode row = rows.get(site.name);
            assertEquals(
                    site.endpoint(),
                    row.path("endpoint").asText(),
                    site + " moved: " + row + "\n" + fixture.diagnostics());
            assertEquals(
                    0,
                    row.path("endpoint_relearn").asLong(),
                    site + " relearned: " + row + "\n" + fixture.diagnostics());
        }
    }
}
