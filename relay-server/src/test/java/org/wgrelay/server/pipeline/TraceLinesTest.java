package org.wgrelay.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.pipeline.RelayHarness.address;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.TestPackets;

/** SPEC rule 6 and 7 with {@code --trace-forward-hashes}: the trace lines tools grep. */
class TraceLinesTest {
    static final InetSocketAddress ALICE = address("192.0.2.10", 51001);
    static final InetSocketAddress BOB = address("203.0.113.20", 51002);
    static final InetSocketAddress CAROL = address("192.0.2.30", 51003);
    static final String ALICE_KEY = RelayHarness.pubkey(1);
    static final Pattern INGRESS = Pattern.compile(
            "trace ingress sha256=[0-9a-f]{32} len=\\d+ type=[1-4] src_peer=\\S+ src_pubkey=(\\S{12}|\\[--\\])"
                    + " dst_peer=\\S+ dst_pubkey=(\\S{12}|\\[--\\])");
    static final Pattern EGRESS =
            Pattern.compile("trace egress sha256=[0-9a-f]{32} len=\\d+ type=[1-4] src_peer=\\S+ dst_peer=\\S+");

    private final Logger traceLogger = (Logger) LoggerFactory.getLogger("org.wgrelay.trace");
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();

    @BeforeEach
    void captureTheTraceLogger() {
        captured.start();
        traceLogger.addAppender(captured);
    }

    @AfterEach
    void releaseTheTraceLogger() {
        traceLogger.detachAppender(captured);
        captured.stop();
    }

    private static RelayHarness tracedRelay() {
        return new RelayHarness(true)
                .peer("alice", ALICE, ALICE_KEY)
                .peer("bob", BOB)
                .peer("carol", CAROL)
                .link("alice", "bob");
    }

    static String sha256Prefix(byte[] payload) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(payload))
                .substring(0, 32);
    }

    private List<String> lines() {
        return captured.list.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
    }

    @Test
    void logsTheIngressAndEgressLinesOfAForwardedDatagramWithTheFirst32HexOfItsSha256() throws Exception {
        RelayHarness relay = tracedRelay();
        ByteBuf payload = TestPackets.datagram(4, 120, 77);
        byte[] bytes = ByteBufUtil.getBytes(payload);
        String hash = sha256Prefix(bytes);

        DatagramPacket in = relay.receive(payload, ALICE);

        assertEquals(
                List.of(
                        "trace ingress sha256=" + hash + " len=120 type=4 src_peer=alice src_pubkey="
                                + ALICE_KEY.substring(0, 12) + " dst_peer=bob dst_pubkey=[--]",
                        "trace egress sha256=" + hash + " len=120 type=4 src_peer=alice dst_peer=bob"),
                lines());
        assertTrue(captured.list.stream().allMatch(e -> e.getLevel() == Level.INFO));
        OutboundDatagram out = relay.forwarded();
        assertSame(payload, out.content(), "tracing does not copy the datagram");
        assertArrayEquals(bytes, ByteBufUtil.getBytes(out.content()), "tracing does not change the datagram");
        out.release();
        assertEquals(0, in.refCnt());
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void namesAStampedDestinationKeyByItsFirst12CharactersAndAnUnstampedSourceAsDashes() throws Exception {
        RelayHarness relay = tracedRelay();
        ByteBuf payload = TestPackets.withMac1(TestPackets.datagram(2, 92, 5), ALICE_KEY); // alice is stamped: rule 5
        String hash = sha256Prefix(ByteBufUtil.getBytes(payload));

        relay.receive(payload, BOB);

        assertEquals(
                List.of(
                        "trace ingress sha256=" + hash
                                + " len=92 type=2 src_peer=bob src_pubkey=[--] dst_peer=alice dst_pubkey="
                                + ALICE_KEY.substring(0, 12),
                        "trace egress sha256=" + hash + " len=92 type=2 src_peer=bob dst_peer=alice"),
                lines());
        relay.forwarded().release();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void hashesOnlyTheReadableBytesOfTheDatagram() throws Exception {
        RelayHarness relay = tracedRelay();
        byte[] message = TestPackets.bytes(3, 64, 6);
        ByteBuf payload = Unpooled.buffer(64 + 10);
        payload.writeBytes(new byte[] {4, 0, 0, 0, 1, 2, 3, 4, 5, 6}).writeBytes(message);
        payload.readerIndex(10);
        String hash = sha256Prefix(message);

        relay.receive(payload, ALICE);

        assertEquals(
                List.of(
                        "trace ingress sha256=" + hash + " len=64 type=3 src_peer=alice src_pubkey="
                                + ALICE_KEY.substring(0, 12) + " dst_peer=bob dst_pubkey=[--]",
                        "trace egress sha256=" + hash + " len=64 type=3 src_peer=alice dst_peer=bob"),
                lines());
        relay.forwarded().release();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void logsOneIngressAndOneEgressLinePerForwardedDatagramInOrder() throws Exception {
        RelayHarness relay = tracedRelay();
        String[] hashes = new String[8];
        for (int i = 0; i < 8; i++) {
            int type = i % 4 + 1;
            ByteBuf payload = TestPackets.datagram(type, TestPackets.shapedLength(type) + (type == 4 ? i : 0), 100 + i);
            if (i % 2 == 1 && type == 2) {
                TestPackets.withMac1(payload, ALICE_KEY); // bob's handshakes go to stamped alice: rule 5
            }
            hashes[i] = sha256Prefix(ByteBufUtil.getBytes(payload));
            relay.receive(payload, i % 2 == 0 ? ALICE : BOB);
        }
        for (int i = 0; i < 8; i++) {
            relay.forwarded().release();
        }

        List<String> lines = lines();
        assertEquals(16, lines.size());
        for (int i = 0; i < 8; i++) {
            String ingress = lines.get(2 * i);
            String egress = lines.get(2 * i + 1);
            assertTrue(INGRESS.matcher(ingress).matches(), ingress);
            assertTrue(EGRESS.matcher(egress).matches(), egress);
            assertTrue(ingress.startsWith("trace ingress sha256=" + hashes[i] + " "), ingress);
            assertTrue(egress.startsWith("trace egress sha256=" + hashes[i] + " "), egress);
            assertTrue(ingress.contains(" type=" + (i % 4 + 1) + " "), ingress);
        }
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void logsNothingForDatagramsThatAreDropped() {
        RelayHarness relay = tracedRelay();
        relay.blocklist.block(address("192.0.2.66", 1).getAddress(), RelayHarness.START_MILLIS + 60_000, 2);

        DatagramPacket noLink = relay.receive(TestPackets.datagram(4, 64), CAROL);
        DatagramPacket unknown = relay.receive(TestPackets.datagram(4, 64), address("192.0.2.99", 1));
        DatagramPacket unshaped = relay.receive(TestPackets.datagram(4, 31), ALICE);
        DatagramPacket blocked = relay.receive(TestPackets.datagram(4, 64), address("192.0.2.66", 2));

        assertEquals(List.of(), lines());
        assertNull(relay.channel.readOutbound());
        assertEquals(0, noLink.refCnt() + unknown.refCnt() + unshaped.refCnt() + blocked.refCnt());
        relay.assertOneVerdictPerDatagram();
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void logsNoTraceLineWithoutTheFlag() {
        RelayHarness relay = new RelayHarness(false)
                .peer("alice", ALICE, ALICE_KEY)
                .peer("bob", BOB)
                .link("alice", "bob");

        relay.receive(TestPackets.datagram(4, 64), ALICE);

        relay.forwarded().release();
        assertEquals(List.of(), lines());
        assertFalse(relay.channel.finishAndReleaseAll());
    }

    @Test
    void logsNoEgressLineForWritesThatAreNotAForwardedDatagram() {
        RelayHarness relay = tracedRelay();

        ByteBuf other = Unpooled.wrappedBuffer(new byte[] {1, 2, 3});
        relay.channel.writeOutbound(new DatagramPacket(other, ALICE));

        assertEquals(List.of(), lines());
        DatagramPacket out = relay.channel.readOutbound();
        out.release();
        assertFalse(relay.channel.finishAndReleaseAll());
    }
}
