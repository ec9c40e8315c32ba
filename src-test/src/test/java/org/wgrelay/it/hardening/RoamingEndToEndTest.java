package org.wgrelay.it.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Automatic roaming end to end (SPEC rules 3, 8, 9): alice's wireguard-go moves to a new
 * address mid-session and the tunnel comes back with no operator action. Nothing tells the relay
 * or wireguard-go about the move: alice's sends from the new address are dropped until her
 * WireGuard gives up on the old session and initiates again (KEEPALIVE + REKEY_TIMEOUT, 15 s),
 * and it is that initiation, recognised by its MAC1, that the relay tries and commits.
 */
class RoamingEndToEndTest {

    /** On alice's veth, in place of {@link RelayedPair#ALICE_UNDERLAY}. */
    private static final String ALICE_NEW_UNDERLAY = "10.233.1.3";
    /** wireguard-go re-initiates 15 s after its data went unanswered; then one handshake and a ping. */
    private static final Duration RECOVERY = Duration.ofSeconds(75);

    /** The relay and both peers, afresh for each test; JUnit closes it after the test, failed or not. */
    @AutoClose
    private final RelayedPair pair = RelayedPair.start(true);

    @Test
    void aliceMovingToANewAddressGetsHerTunnelBackAndTheRelayRecordsHerNewEndpoint() {
        pair.awaitTunnel(Duration.ofSeconds(30), "the first ping through the tunnel");
        String oldEndpoint = RelayedPair.ALICE_UNDERLAY + ":" + RelayedPair.PEER_PORT;
        String newEndpoint = ALICE_NEW_UNDERLAY + ":" + RelayedPair.PEER_PORT;
        assertEquals(oldEndpoint, pair.control.peer("alice").path("endpoint").asText(), pair.diagnostics());

        // The move: her old address disappears (delete first: deleting a primary address also
        // deletes the secondaries of its subnet) and a new one takes its place.
        String veth = pair.aliceVeth;
        pair.aliceNs.ip("addr", "del", RelayedPair.ALICE_UNDERLAY + "/24", "dev", veth);
        pair.aliceNs.ip("addr", "add", ALICE_NEW_UNDERLAY + "/24", "dev", veth);
        long moved = System.nanoTime();

        pair.poll(RECOVERY, "alice's pings to cross the tunnel again after her move", pair::probe);
        long back = System.nanoTime();
        // The commit's roster half (rewrite with fsync, republish) runs on the relay's control
        // thread, just after the packet that decided it was forwarded to the new endpoint.
        pair.poll(
                Duration.ofSeconds(15),
                "wg peer list to show alice's new endpoint",
                () -> newEndpoint.equals(
                        pair.control.peer("alice").path("endpoint").asText()));
        System.out.printf(
                "tunnel back %.1f s after alice moved, wg peer list %.1f s later (%s)%n",
                (back - moved) / 1e9, (System.nanoTime() - back) / 1e9, pair.probeSummary());

        JsonNode row = pair.control.peer("alice");
        String why = "alice's row of wg peer list: " + row + "\n" + pair.diagnostics();
        assertEquals(newEndpoint, row.path("endpoint").asText(), why);
        assertEquals(1, row.path("endpoint_relearn").asLong(), why);
        assertTrue(row.path("candidate_endpoint").isNull(), why);
        assertEquals(0, pair.control.counter("drop_relearn_unconfirmed"), pair.diagnostics());
        assertEquals(0, pair.control.call("wg blocklist list").path("entries").size(), pair.diagnostics());

        String roster = pair.rosterText();
        assertTrue(
                roster.lines()
                        .anyMatch(line ->
                                line.strip().startsWith("peer alice " + newEndpoint + " " + pair.alice.publicKey())),
                "the roster file must carry alice's new endpoint and her key:\n" + roster);
        assertTrue(
                roster.lines().noneMatch(line -> line.contains(oldEndpoint)),
                "the roster file still names alice's old endpoint:\n" + roster);

        String log = pair.relay.output();
        assertTrue(log.contains("candidate peer=alice source=" + newEndpoint), "no candidate line\n" + log);
        assertTrue(log.contains("relearn peer=alice endpoint=" + newEndpoint), "no relearn line\n" + log);

        // The tunnel stays up on the new endpoint, in both directions of the relay.
        for (int i = 0; i < 5; i++) {
            assertTrue(pair.probe(), "a ping after the relearn failed\n" + pair.diagnostics());
        }
    }
}
