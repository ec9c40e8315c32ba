package org.wgrelay.it.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.WireGuardPeer;

/**
 * SPEC rule 5 end to end: with a key stamped for bob, alice's initiations must carry a MAC1 made
 * with that key. A wrong stamp drops real handshakes ({@code drop_handshake_pubkey_mismatch}) and
 * so takes the tunnel down at its next handshake; stamping the right key brings it back without
 * touching either peer. Both stamps go through the shipped {@code wg-relay ctl} client.
 */
class StampedKeyEndToEndTest {

    /** The relay and both peers, afresh for each test; JUnit closes it after the test, failed or not. */
    @AutoClose
    private final RelayedPair pair = RelayedPair.start(true);

    @Test
    void aWrongStampedKeyDropsHandshakesAndTheRightKeyBringsTheTunnelBack() {
        pair.awaitTunnel(Duration.ofSeconds(30), "the first ping through the tunnel");
        assertEquals(0, pair.control.counter("drop_handshake_pubkey_mismatch"), pair.diagnostics());

        String wrongKey = WireGuardPeer.publicKeyOf(WireGuardPeer.generatePrivateKey());
        pair.control.ctl("wg", "peer", "pubkey", "bob", wrongKey);
        assertEquals(wrongKey, pair.control.peer("bob").path("pubkey").asText(), pair.diagnostics());

        // Transport data is never MAC-checked, so the live session would carry on: alice forgets
        // bob and meets him again, and her next ping needs a new handshake.
        pair.aliceRemovesBob();
        pair.aliceAddsBob();
        pair.poll(Duration.ofSeconds(30), "alice's initiation to be dropped as a pubkey mismatch", () -> {
            pair.ping();
            return pair.control.counter("drop_handshake_pubkey_mismatch") >= 1;
        });
        assertTrue(
                pair.control.peer("alice").path("drop_pubkey_mismatch").asLong() >= 1,
                "alice's own drop_pubkey_mismatch\n" + pair.diagnostics());
        // wireguard-go retries every 5 s; every retry meets the same wrong key.
        assertFalse(
                pair.aliceNs
                        .tryExec(
                                Duration.ofSeconds(30),
                                Prerequisites.which("ping"),
                                "-n",
                                "-c",
                                "6",
                                "-i",
                                "1",
                                "-W",
                                "1",
                                RelayedPair.BOB_TUNNEL)
                        .succeeded(),
                "a ping crossed the tunnel although the relay must drop alice's handshakes\n" + pair.diagnostics());
        assertTrue(
                pair.control.counter("drop_handshake_pubkey_mismatch") >= 2,
                "alice's retries must be dropped too\n" + pair.diagnostics());

        pair.control.ctl("wg", "peer", "pubkey", "bob", pair.bobPublicKey);
        long stamped = System.nanoTime();
        pair.awaitTunnel(Duration.ofSeconds(30), "the tunnel to come back after the right key was stamped");
        System.out.printf("tunnel back %.1f s after the right key was stamped%n", (System.nanoTime() - stamped) / 1e9);

        assertEquals(pair.bobPublicKey, pair.control.peer("bob").path("pubkey").asText(), pair.diagnostics());
        String roster = pair.rosterText();
        assertTrue(
                roster.lines()
                        .anyMatch(line -> line.strip()
                                .startsWith("peer bob " + RelayedPair.BOB_UNDERLAY + ":" + RelayedPair.PEER_PORT + " "
                                        + pair.bobPublicKey)),
                "the roster file must carry bob's right key:\n" + roster);
    }
}
