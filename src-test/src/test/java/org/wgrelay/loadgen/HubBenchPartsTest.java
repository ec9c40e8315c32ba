// Load generator: the hub benchmark's parts that need no relay.
package org.wgrelay.loadgen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.server.wire.Mac1;

class HubBenchPartsTest {

    @Test
    void sessionIndicesDecodeToTheirFlowAndSpreadOverAllBits() {
        Set<Integer> seen = new HashSet<>();
        int highBitSet = 0;
        for (int k = 0; k < 1024; k++) {
            assertEquals(SessionIds.SPOKE_FLOW_BASE + k, SessionIds.flow(SessionIds.spoke(k)));
            assertEquals(SessionIds.HUB_FLOW_BASE + k, SessionIds.flow(SessionIds.hub(k)));
            assertTrue(seen.add(SessionIds.spoke(k)));
            assertTrue(seen.add(SessionIds.hub(k)));
            highBitSet += SessionIds.spoke(k) < 0 ? 1 : 0;
        }
        assertTrue(highBitSet > 400 && highBitSet < 624, "top bit set in " + highBitSet + " of 1024");
        assertEquals(1, 0x045d9f3b * SessionIds.inverse(0x045d9f3b));
    }

    @Test
    void initiationCarriesItsIndexAndAMac1ForTheResponderOnly() {
        byte[] hub = HubHandshakes.publicKey("hub");
        byte[] spoke = HubHandshakes.publicKey("spoke7");
        ByteBuf m = Unpooled.wrappedBuffer(HubHandshakes.initiation(SessionIds.spoke(7), hub));
        assertEquals(148, m.readableBytes());
        assertEquals(1, m.getIntLE(0));
        assertEquals(SessionIds.spoke(7), m.getIntLE(4));
        assertTrue(new Mac1().verify(m, Mac1.keyFor(hub)));
        assertFalse(new Mac1().verify(m, Mac1.keyFor(spoke)));
        assertTrue(HubHandshakes.isHandshake(m));
    }

    @Test
    void responseNamesBothSessionsAndIsMacedForTheInitiator() {
        byte[] hub = HubHandshakes.publicKey("hub");
        byte[] spoke = HubHandshakes.publicKey("spoke7");
        ByteBuf m = Unpooled.wrappedBuffer(HubHandshakes.response(SessionIds.hub(7), SessionIds.spoke(7), spoke));
        assertEquals(92, m.readableBytes());
        assertEquals(2, m.getIntLE(0));
        assertEquals(SessionIds.hub(7), m.getIntLE(4));
        assertEquals(SessionIds.spoke(7), m.getIntLE(8));
        assertTrue(new Mac1().verify(m, Mac1.keyFor(spoke)));
        assertFalse(new Mac1().verify(m, Mac1.keyFor(hub)));
        HubHandshakes.Tally t = new HubHandshakes.Tally();
        t.record(m);
        assertTrue(t.responses.get(SessionIds.SPOKE_FLOW_BASE + 7));
        assertTrue(t.initiations.isEmpty());
    }

    @Test
    void oneSocketNamingManySessionsDeliversEveryDatagramToItsFlowInOrder() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            EventLoop loop = group.next();
            SinkStats stats = new SinkStats();
            Bootstrap b = LoadGenerator.bootstrap(loop, new SinkHandler(stats, true), 4 << 20);
            InetAddress lo = InetAddress.getLoopbackAddress();
            Channel sink = b.bind(new InetSocketAddress(lo, 0)).sync().channel();
            Channel hub = b.connect(sink.localAddress(), new InetSocketAddress(lo, 0))
                    .sync()
                    .channel();
            int[] ids = new int[10];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = SessionIds.spoke(k);
            }
            // 7 per batch: consecutive batches start at different sessions
            Sender s = new Sender(loop, List.of(hub), new int[][] {ids}, 64, 7, 2_000, 500_000_000L, false);
            s.start().sync();
            long sent = s.sent();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (loop.submit(() -> stats.received).get() < sent && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(sent, loop.submit(() -> stats.received).get());
            // a paced sender that wakes late gives slots up, so what was sent is what counts
            assertEquals(
                    Math.min(10, sent), (long) loop.submit(stats::flowsSeen).get());
            assertEquals(0, loop.submit(stats::reorderedTotal).get());
            assertEquals(0, loop.submit(stats::gapLost).get());
            assertEquals(0, loop.submit(() -> stats.bad).get());
            // flow k got datagrams k, k+10, ...: the per-session sequences add up to what was sent
            assertEquals(sent, loop.submit(stats::expectedFromSequences).get());
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }

    @Test
    void registrationStampsEveryKeyBeforeTheFirstLinkAndPipelines() throws Exception {
        List<JsonNode> requests = new ArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> fake = CompletableFuture.runAsync(() -> answerOk(server, requests, -1));
            HubLayout layout = new HubLayout(InetAddress.getByName("10.0.0.1"), 30000, 100);
            int verbs = new HubRegistration((InetSocketAddress) server.getLocalSocketAddress(), "tok").register(layout);
            fake.get(10, TimeUnit.SECONDS);
            assertEquals(2 * 101 + 100, verbs);
            assertEquals(verbs, requests.size());
        }
        assertEquals("wg peer add", requests.get(0).path("verb").asText());
        assertEquals(
                "[\"hub\",\"10.0.0.1:30000\",\"hub bench\"]",
                requests.get(0).path("args").toString());
        assertEquals("tok", requests.get(0).path("token").asText());
        assertArrayEquals(
                HubHandshakes.publicKey("spoke99"),
                Base64.getDecoder().decode(requests.get(201).path("args").get(1).asText()));
        assertEquals("10.0.0.1:30100", requests.get(200).path("args").get(1).asText());
        int firstLink = -1;
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).path("verb").asText().equals("wg link add") && firstLink < 0) {
                firstLink = i;
            }
        }
        assertEquals(202, firstLink);
        assertEquals(
                "[\"hub\",\"spoke99\"]",
                requests.get(requests.size() - 1).path("args").toString());
    }

    @Test
    void spokesOnTheirOwnAddressesCountUpFromTheBaseOnOnePort() throws Exception {
        HubLayout layout = new HubLayout(
                InetAddress.getByName("10.77.0.11"),
                20000,
                1000,
                new InetSocketAddress(InetAddress.getByName("10.77.128.1"), 40000));
        assertEquals("10.77.0.11:20000", layout.hubEndpoint());
        assertEquals("10.77.128.1:40000", layout.spokeEndpoint(0));
        assertEquals("10.77.129.0:40000", layout.spokeEndpoint(255));
        assertEquals("10.77.131.232:40000", layout.spokeEndpoint(999));
        assertEquals(
                "10.77.0.11:21000", new HubLayout(InetAddress.getByName("10.77.0.11"), 20000, 1000).spokeEndpoint(999));
    }

    @Test
    void registrationStopsAtTheFirstErrorAndNamesIt() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture.runAsync(() -> answerOk(server, new ArrayList<>(), 203));
            HubLayout layout = new HubLayout(InetAddress.getByName("10.0.0.1"), 30000, 100);
            IOException e = assertThrows(
                    IOException.class,
                    () -> new HubRegistration((InetSocketAddress) server.getLocalSocketAddress(), null)
                            .register(layout));
            assertTrue(e.getMessage().startsWith("wg link add hub spoke1 failed"), e.getMessage());
            assertTrue(e.getMessage().contains("link_limit_exceeded"), e.getMessage());
        }
    }

    /** A control server that answers ok to everything but request number {@code failAt}. */
    private static void answerOk(ServerSocket server, List<JsonNode> requests, int failAt) {
        try (Socket s = server.accept()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode r = ControlJson.MAPPER.readTree(line);
                requests.add(r);
                String answer = requests.size() - 1 == failAt
                        ? ControlJson.errorLine(r.get("id"), "link_limit_exceeded", "one link per peer")
                        : ControlJson.okLine(r.get("id"), java.util.Map.of());
                out.write((answer + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException e) {
            // the client closed
        }
    }
}
