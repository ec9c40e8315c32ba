package org.wgrelay.it.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.control.LocalRelay.await;
import static org.wgrelay.it.control.LocalRelay.endpointOf;
import static org.wgrelay.it.control.LocalRelay.receive;
import static org.wgrelay.it.control.LocalRelay.udpSocket;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The metrics listener after real UDP traffic: {@code /metrics} parses as Prometheus
 * text and carries the same numbers as {@code wg show} and {@code wg peer list};
 * per-peer series follow the roster; health endpoints answer as SPEC says.
 */
class MetricsEndpointTest {
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final Random random = new Random(11);
    private LocalRelay relay;
    private RelayClient c;

    @BeforeEach
    void start() throws Exception {
        relay = LocalRelay.open();
        c = relay.client();
    }

    @AfterEach
    void stop() throws Exception {
        c.close();
        relay.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.daemon.metricsPort() + path))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private PrometheusText scrape() throws Exception {
        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(
                r.headers().firstValue("content-type").orElse("").startsWith("text/plain"),
                r.headers().toString());
        return new PrometheusText(r.body());
    }

    private JsonNode peer(String name) throws IOException {
        for (JsonNode p : c.ok("wg peer list").get("peers")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no peer " + name);
    }

    private long verdicts() {
        try {
            JsonNode show = c.ok("wg show");
            long sum = show.get("fwd_packets").asLong();
            for (Iterator<String> it = show.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (f.startsWith("drop_")) {
                    sum += show.get(f).asLong();
                }
            }
            return sum;
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void metricsCarryTheSameNumbersAsWgShowAndWgPeerListAfterRealTraffic() throws Exception {
        try (DatagramSocket alice = udpSocket("127.0.0.1");
                DatagramSocket bob = udpSocket("127.0.0.1");
                DatagramSocket carol = udpSocket("127.0.0.1");
                DatagramSocket stranger = udpSocket("127.0.0.7");
                DatagramSocket blocked = udpSocket("127.0.0.8")) {
            c.ok("wg peer add", "alice", endpointOf(alice));
            c.ok("wg peer add", "bob", endpointOf(bob));
            c.ok("wg peer add", "carol", endpointOf(carol));
            c.ok("wg link add", "alice", "bob");
            c.ok("wg peer pubkey", "bob", ControlVerbsTest.key(9));
            c.ok("wg blocklist add", "127.0.0.8", "1h");

            for (int len : List.of(100, 200, 300)) {
                byte[] p = LocalRelay.transport(len, random);
                relay.send(alice, p);
                assertArrayEquals(p, receive(bob));
            }
            byte[] back = LocalRelay.transport(64, random);
            relay.send(bob, back);
            assertArrayEquals(back, receive(alice));
            relay.send(carol, LocalRelay.transport(80, random)); // no_link
            relay.send(carol, LocalRelay.transport(90, random)); // no_link
            relay.send(alice, LocalRelay.initiation(random)); // handshake_pubkey_mismatch
            relay.send(stranger, LocalRelay.transport(64, random)); // unknown_src
            relay.send(stranger, new byte[] {1, 2, 3}); // not_wg_shaped
            relay.send(stranger, LocalRelay.initiation(random)); // handshake_no_pubkey_match
            relay.send(blocked, LocalRelay.transport(64, random)); // blocklisted
            await("every datagram has its verdict", () -> verdicts() == 11);
        }
        JsonNode show = c.ok("wg show");
        PrometheusText m = scrape();

        assertEquals(11, show.get("rx_packets").asLong());
        assertEquals(show.get("rx_packets").asDouble(), m.value("wgrelay_rx_packets_total"));
        assertEquals(show.get("fwd_packets").asDouble(), m.value("wgrelay_forwarded_packets_total"));
        int reasons = 0;
        for (Iterator<String> it = show.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (f.startsWith("drop_")) {
                assertEquals(
                        show.get(f).asDouble(),
                        m.value("wgrelay_dropped_packets_total", "reason", f.substring("drop_".length())),
                        f);
                reasons++;
            }
        }
        assertEquals(9, reasons); // SPEC's eight, section A's rate limit, section E's no_endpoint
        assertEquals(reasons, m.named("wgrelay_dropped_packets_total").size(), "one series per SPEC reason");
        assertEquals(1.0, m.value("wgrelay_dropped_packets_total", "reason", "handshake_pubkey_mismatch"));
        assertEquals(2.0, m.value("wgrelay_dropped_packets_total", "reason", "no_link"));
        assertEquals(1.0, m.value("wgrelay_dropped_packets_total", "reason", "blocklisted"));
        assertEquals(
                "counter",
                m.types.getOrDefault("wgrelay_rx_packets_total", m.types.get("wgrelay_rx_packets")),
                "counters are typed as counters");
        assertEquals("gauge", m.types.get("wgrelay_peers"));

        for (String name : List.of("alice", "bob", "carol")) {
            JsonNode p = peer(name);
            assertEquals(p.get("rx_bytes").asDouble(), m.value("wgrelay_peer_rx_bytes_total", "peer", name), name);
            assertEquals(
                    p.get("fwd_bytes").asDouble(), m.value("wgrelay_peer_forwarded_bytes_total", "peer", name), name);
            assertEquals(
                    p.get("drop_no_link").asDouble(),
                    m.value("wgrelay_peer_dropped_packets_total", "peer", name, "reason", "no_link"),
                    name);
            assertEquals(
                    p.get("drop_pubkey_mismatch").asDouble(),
                    m.value("wgrelay_peer_dropped_packets_total", "peer", name, "reason", "pubkey_mismatch"),
                    name);
        }
        assertEquals(600.0, m.value("wgrelay_peer_forwarded_bytes_total", "peer", "alice"));
        assertEquals(600.0 + 148, m.value("wgrelay_peer_rx_bytes_total", "peer", "alice"));
        assertEquals(2.0, m.value("wgrelay_peer_dropped_packets_total", "peer", "carol", "reason", "no_link"));
        assertEquals(1.0, m.value("wgrelay_peer_dropped_packets_total", "peer", "alice", "reason", "pubkey_mismatch"));

        assertEquals(3.0, m.value("wgrelay_peers"));
        assertEquals(1.0, m.value("wgrelay_links"));
        assertEquals(1.0, m.value("wgrelay_blocklist_entries"));
        assertEquals(0.0, m.value("wgrelay_xdp_attached"));
        assertEquals(1.0, m.value("wgrelay_store_connected"), "the roster file is always there");
        assertEquals(0.0, m.value("wgrelay_store_revision"));
        assertTrue(m.samples.stream().anyMatch(s -> s.name().startsWith("jvm_memory")), "JVM metrics are exported");
        assertTrue(m.samples.stream().anyMatch(s -> s.name().startsWith("jvm_threads")), "JVM metrics are exported");
    }

    @Test
    void perPeerSeriesDisappearWhenThePeerIsRemoved() throws Exception {
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        c.ok("wg peer add", "bob", "198.51.100.2:51820");
        c.ok("wg link add", "alice", "bob");
        PrometheusText before = scrape();
        assertEquals(
                5,
                before.samples.stream()
                        .filter(s -> "alice".equals(s.labels().get("peer")))
                        .count(),
                "rx bytes, forwarded bytes and three drop reasons (SPEC E's no_endpoint)");
        assertEquals(1.0, before.value("wgrelay_links"));

        c.ok("wg peer remove", "alice");
        PrometheusText after = scrape();
        assertFalse(after.hasSeriesWithLabel("peer", "alice"), "no stale series for a removed peer");
        assertEquals(0.0, after.value("wgrelay_peer_rx_bytes_total", "peer", "bob"));
        assertEquals(1.0, after.value("wgrelay_peers"));
        assertEquals(0.0, after.value("wgrelay_links"));

        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        assertEquals(
                0.0,
                scrape().value("wgrelay_peer_rx_bytes_total", "peer", "alice"),
                "a peer added again starts from zero");
    }

    @Test
    void gaugesFollowTheRosterAndTheBlocklistIncludingExpiry() throws Exception {
        c.ok("wg blocklist add", "192.0.2.1", "90s");
        c.ok("wg blocklist add", "192.0.2.2", "1h");
        assertEquals(2.0, scrape().value("wgrelay_blocklist_entries"));
        c.ok("wg blocklist remove", "192.0.2.2");
        assertEquals(1.0, scrape().value("wgrelay_blocklist_entries"));
        relay.clock.addAndGet(91_000);
        assertEquals(0, c.ok("wg blocklist list").get("entries").size());
        assertEquals(
                0.0,
                scrape().value("wgrelay_blocklist_entries"),
                "an expired entry leaves the gauge when it stops blocking, swept or not");
    }

    @Test
    void meterValuesSurviveAGarbageCollection() throws Exception {
        // Micrometer holds a gauge's object weakly; a collected one would scrape as NaN.
        c.ok("wg peer add", "alice", "198.51.100.1:51820");
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        PrometheusText m = scrape();
        for (PrometheusText.Sample s : m.samples) {
            if (s.name().startsWith("wgrelay_")) {
                assertFalse(Double.isNaN(s.value()), s.toString());
            }
        }
        assertEquals(0.0, m.value("wgrelay_xdp_attached"));
        assertEquals(1.0, m.value("wgrelay_peers"));
    }

    @Test
    void peerNamesNeedNoEscapingButTheExpositionStaysParseable() throws Exception {
        c.ok("wg peer add", "a.b_c-d", "198.51.100.1:51820", "label \"quoted\" \\ back");
        assertEquals(0.0, scrape().value("wgrelay_peer_rx_bytes_total", "peer", "a.b_c-d"));
    }

    private String rawHttp(byte[] request) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", relay.daemon.metricsPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(s.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
            String status = in.readLine();
            return status == null ? "" : status;
        } catch (java.net.SocketException reset) {
            return "";
        }
    }

    @Test
    void hostileHttpRequestsAreRefusedAndTheListenerKeepsServing() throws Exception {
        byte[] longUri = ("GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes();
        byte[] hugeHeader =
                ("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n").getBytes();
        byte[] bigBody = ("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "c".repeat(100_000))
                .getBytes();
        byte[] garbage = new byte[4096];
        new Random(5).nextBytes(garbage);
        for (byte[] req : List.of(longUri, hugeHeader, bigBody, garbage, "NOT HTTP AT ALL\r\n\r\n".getBytes())) {
            String status = rawHttp(req);
            assertTrue(
                    status.isEmpty() || status.matches("HTTP/1\\.[01] 4\\d\\d .*"),
                    "refused or closed, not served: " + status);
        }
        assertEquals(200, get("/healthz").statusCode());
        assertEquals(200, get("/metrics").statusCode());
    }

    @Test
    void healthAndReadinessAnswer200AndOtherRequestsAreRefused() throws Exception {
        HttpResponse<String> health = get("/healthz");
        assertEquals(200, health.statusCode());
        assertEquals(200, get("/readyz").statusCode());
        assertEquals(200, get("/metrics?name=x").statusCode(), "a query string does not change the path");
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/metricsx").statusCode());
        assertEquals(404, get("/../metrics").statusCode());
        HttpResponse<String> post = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.daemon.metricsPort() + "/metrics"))
                        .timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString("x=1"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        HttpResponse<String> delete = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.daemon.metricsPort() + "/healthz"))
                        .timeout(Duration.ofSeconds(10))
                        .DELETE()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, delete.statusCode());
        assertEquals(200, get("/healthz").statusCode(), "still serving after refusals");
    }
}
