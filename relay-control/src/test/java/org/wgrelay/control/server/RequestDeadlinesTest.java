package org.wgrelay.control.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.control.protocol.ControlJson;

/** The line deadline and idle timeout on an embedded channel whose clock the test drives. */
class RequestDeadlinesTest {
    private static final ControlLimits LIMITS = new ControlLimits(
            16, Duration.ofSeconds(10), Duration.ofSeconds(300), 256 * 1024, Duration.ofSeconds(30), 1);

    private final EmbeddedChannel ch = new EmbeddedChannel();

    RequestDeadlinesTest() {
        ch.freezeTime();
        ch.pipeline().addLast(new RequestDeadlines(LIMITS));
    }

    @AfterEach
    void release() {
        ch.finishAndReleaseAll();
    }

    private void send(String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
    }

    private void advance(Duration d) {
        ch.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        ch.runPendingTasks();
        ch.runScheduledPendingTasks();
    }

    private JsonNode closedWith() throws Exception {
        assertFalse(ch.isOpen(), "the connection is closed");
        ByteBuf out = ch.readOutbound();
        try {
            return ControlJson.MAPPER.readTree(out.toString(StandardCharsets.UTF_8));
        } finally {
            out.release();
        }
    }

    private void releaseInbound() {
        for (Object m; (m = ch.readInbound()) != null; ) {
            ((ByteBuf) m).release();
        }
    }

    @Test
    void closesASlowlorisClientWhoseLineIsNotCompleteWithinTheDeadlineOfItsFirstByte() throws Exception {
        send("{");
        for (int i = 0; i < 9; i++) {
            advance(Duration.ofSeconds(1));
            send("\""); // a byte a second keeps the connection busy, not the line alive
            assertTrue(ch.isOpen(), "open after " + (i + 1) + " s");
        }
        advance(Duration.ofSeconds(1));
        JsonNode r = closedWith();
        assertEquals("request_timeout", r.get("error").get("code").asText());
        assertTrue(r.get("id").isNull());
        assertTrue(r.get("error").get("message").asText().contains("10 s"), r::toString);
        releaseInbound();
    }

    @Test
    void aLineCompletedInTimeDisarmsTheDeadlineAndTheNextLineGetsAFreshOne() {
        send("{\"verb\":");
        advance(Duration.ofSeconds(9));
        send("\"help\"}\n{\"ve");
        advance(Duration.ofSeconds(9)); // 18 s after the first line began, 9 s into the second
        assertTrue(ch.isOpen());
        send("rb\":\"help\"}\n");
        advance(Duration.ofSeconds(60));
        assertTrue(ch.isOpen(), "no partial line, no deadline");
        assertNull(ch.readOutbound());
        releaseInbound();
    }

    @Test
    void doesNotBlameTheClientForALineWaitingInBuffersWhileTheRelayIsNotReading() throws Exception {
        send("{\"verb\":");
        ch.config().setAutoRead(false); // the connection stopped reading: its output is backed up
        advance(Duration.ofSeconds(25));
        assertTrue(ch.isOpen());
        ch.config().setAutoRead(true);
        advance(Duration.ofSeconds(10));
        assertEquals("request_timeout", closedWith().get("error").get("code").asText());
        releaseInbound();
    }

    @Test
    void closesAConnectionThatCarriesNothingForTheIdleTimeout() throws Exception {
        advance(Duration.ofSeconds(200));
        send("{\"verb\":\"help\"}\n");
        advance(Duration.ofSeconds(200));
        ch.writeOutbound(Unpooled.copiedBuffer("{\"id\":null,\"ok\":true,\"result\":{}}\n", StandardCharsets.UTF_8));
        ((ByteBuf) ch.readOutbound()).release();
        advance(Duration.ofSeconds(299));
        assertTrue(ch.isOpen(), "a response counts as activity too");
        advance(Duration.ofSeconds(1));
        JsonNode r = closedWith();
        assertEquals("idle_timeout", r.get("error").get("code").asText());
        assertTrue(r.get("error").get("message").asText().contains("300 s"), r::toString);
        releaseInbound();
    }

    @Test
    void removingTheHandlerStopsBothClocks() {
        send("{");
        ch.pipeline().remove(RequestDeadlines.class); // what subscribing does
        advance(Duration.ofHours(1));
        assertTrue(ch.isOpen());
        releaseInbound();
    }
}
