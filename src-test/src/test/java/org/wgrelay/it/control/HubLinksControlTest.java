package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.noise.Mac1;
import org.wgrelay.server.roster.RosterFileException;

/**
 * SPEC B through the control channel and real loopback sockets: a relay started with
 * {@code --max-links-per-peer 4}, a hub and three spokes, the verbs' new answers, and a hub's
 * datagrams routed by MAC1 and session index.
 */
class HubLinksControlTest {
    private final Random random = new Random(11);
    private LocalRelay relay;
    private RelayClient c;
    private final List<DatagramSocket> sockets = new ArrayList<>();
    private final byte[][] keys = new byte[4][];

    @BeforeEach
    void start() throws Exception {
        relay = LocalRelay.withHubLinks(4);
        c = relay.client();
        for (int i = 0; i < 4; i++) {
            keys[i] = new byte[32];
            random.nextBytes(keys[i]);
            sockets.add(LocalRelay.udpSocket("127.0.0.1"));
        }
    }

    @AfterEach
    void stop() throws Exception {
        c.close();
        for (DatagramSocket s : sockets) {
            s.close();
        }
        relay.close();
    }

    private static String name(int i) {
        return i == 0 ? "hub" : "spoke" + i;
    }

    private void register(int i, boolean keyed) throws IOException {
        c.ok("wg peer add", name(i), LocalRelay.endpointOf(sockets.get(i)));
        if (keyed) {
            c.ok("wg peer pubkey", name(i), Base64.getEncoder().encodeToString(keys[i]));
        }
    }

    private void hubWithThreeSpokes() throws IOException {
        for (int i = 0; i < 4; i++) {
            register(i, true);
        }
        for (int i = 1; i <= 3; i++) {
            c.ok("wg link add", "hub", name(i));
        }
    }

    @Test
    void aSecondLinkNeedsKeysOnTheHubAndItsPartnersAndTheFifthIsOverTheLimit() throws Exception {
        register(0, true);
        register(1, true);
        register(2, false);
        c.ok("wg link add", "hub", "spoke1");
        assertEquals("wg_pubkey_required", c.error("wg link add", "hub", "spoke2"));
        assertEquals(1, c.ok("wg link list").get("links").size(), "a rejected request changes nothing");
        c.ok("wg peer pubkey", "spoke2", Base64.getEncoder().encodeToString(keys[2]));
        c.ok("wg link add", "spoke2", "hub");
        register(3, true);
        c.ok("wg link add", "hub", "spoke3");
        for (int i = 4; i <= 5; i++) {
            c.ok("wg peer add", "extra" + i, "127.0.0.1:" + (40000 + i));
            c.ok("wg peer pubkey", "extra" + i, Base64.getEncoder().encodeToString(keys[i % 4]));
        }
        c.ok("wg link add", "hub", "extra4");
        assertEquals("link_limit_exceeded", c.error("wg link add", "extra5", "hub"));
        JsonNode help = c.ok("help", "wg link add");
        assertTrue(help.toString().contains("wg_pubkey_required"), help.toString());
    }

    @Test
    void peerListShowsLinksAndLinkedToOnlyForOneLink() throws Exception {
        hubWithThreeSpokes();
        for (JsonNode p : c.ok("wg peer list").get("peers")) {
            if (p.get("name").asText().equals("hub")) {
                assertTrue(p.get("linked_to").isNull(), p.toString());
                assertEquals(
                        "[\"spoke1\",\"spoke2\",\"spoke3\"]", p.get("links").toString());
            } else {
                assertEquals("hub", p.get("linked_to").asText(), p.toString());
                assertEquals("[\"hub\"]", p.get("links").toString());
            }
            assertEquals(0, p.get("drop_no_route").asLong(), p.toString());
        }
        assertEquals(3, c.ok("wg show").get("link_count").asInt());
    }

    @Test
    void showConfigPrintsOneBlockPerPartnerForTheHubAndTheHubsForASpoke() throws Exception {
        hubWithThreeSpokes();
        String hub =
                c.ok("wg show config", "hub", "203.0.113.1:51820").get("config").asText();
        assertEquals(3, hub.split("\\[Peer\\]", -1).length - 1, hub);
        for (int i = 1; i <= 3; i++) {
            assertTrue(hub.contains("PublicKey = " + Base64.getEncoder().encodeToString(keys[i])), hub);
        }
        String spoke = c.ok("wg show config", "spoke2", "203.0.113.1:51820")
                .get("config")
                .asText();
        assertEquals(1, spoke.split("\\[Peer\\]", -1).length - 1, spoke);
        assertTrue(spoke.contains("PublicKey = " + Base64.getEncoder().encodeToString(keys[0])), spoke);
        assertTrue(spoke.contains("Endpoint = 203.0.113.1:51820"), spoke);
    }

    private byte[] handshake(int type, int senderIndex, int receiverIndex, byte[] recipientKey) {
        byte[] b = new byte[type == 1 ? 148 : 92];
        random.nextBytes(b);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(0, type).putInt(4, senderIndex);
        if (type == 2) {
            bb.putInt(8, receiverIndex);
        }
        Mac1.stamp(b, recipientKey);
        return b;
    }

    private byte[] transport(int receiverIndex) {
        byte[] b = new byte[64];
        random.nextBytes(b);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 4).putInt(4, receiverIndex);
        return b;
    }

    private void assertArrives(int at, byte[] sent) throws IOException {
        assertTrue(Arrays.equals(sent, LocalRelay.receive(sockets.get(at))), "the bytes arrive unchanged at " + at);
    }

    @Test
    void aHubsDatagramsReachTheSpokeTheirMac1OrReceiverIndexNames() throws Exception {
        hubWithThreeSpokes();
        DatagramSocket hub = sockets.get(0);
        for (int i = 1; i <= 3; i++) {
            byte[] init = handshake(1, 0x100 * i, 0, keys[0]);
            relay.send(sockets.get(i), init);
            assertArrives(0, init);
            byte[] response = handshake(2, 0xA0 + i, 0x100 * i, keys[i]);
            relay.send(hub, response);
            assertArrives(i, response);
        }
        for (int i = 3; i >= 1; i--) {
            byte[] data = transport(0x100 * i);
            relay.send(hub, data);
            assertArrives(i, data);
        }
        byte[] hubInit = handshake(1, 0xBB, 0, keys[2]);
        relay.send(hub, hubInit);
        assertArrives(2, hubInit);

        relay.send(hub, transport(0x999));
        sockets.get(1).setSoTimeout(300);
        assertThrows(SocketTimeoutException.class, () -> LocalRelay.receive(sockets.get(1)));
        JsonNode show = c.ok("wg show");
        assertEquals(1, show.get("drop_no_route").asLong(), show.toString());
        for (JsonNode p : c.ok("wg peer list").get("peers")) {
            assertEquals(
                    p.get("name").asText().equals("hub") ? 1 : 0,
                    p.get("drop_no_route").asLong(),
                    p.toString());
        }
        String metrics = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + relay.daemon.metricsPort() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        PrometheusText m = new PrometheusText(metrics);
        assertEquals(1.0, m.value("wgrelay_dropped_packets_total", "reason", "no_route"));
        assertEquals(1.0, m.value("wgrelay_peer_dropped_packets_total", "peer", "hub", "reason", "no_route"));
    }

    @Test
    void aHubRosterReloadsUnderItsLimitAndRefusesToLoadUnderASmallerOneNamingTheLine() throws Exception {
        hubWithThreeSpokes();
        c.close();
        relay.stopKeepingFiles();
        LocalRelay again = relay.restartedWith(4);
        relay = again;
        c = relay.client();
        assertEquals(3, c.ok("wg show").get("link_count").asInt());
        c.close();
        relay.stopKeepingFiles();

        RosterFileException e = assertThrows(RosterFileException.class, () -> relay.restartedWith(2));
        assertTrue(e.getMessage().contains("wg-roster:"), e.getMessage());
        assertTrue(e.getMessage().contains("link_limit_exceeded"), e.getMessage());
        relay = relay.restartedWith(4); // for stop()
        c = relay.client();
    }

    @Test
    void aRelayWithoutHubLinksKeepsTodaysAnswers() throws Exception {
        try (LocalRelay plain = LocalRelay.open();
                RelayClient p = plain.client()) {
            assertFalse(p.ok("wg show").has("drop_no_route"));
            p.ok("wg peer add", "a", "127.0.0.1:1");
            assertFalse(p.ok("wg peer list").get("peers").get(0).has("links"));
        }
    }
}
