package org.wgrelay.server.handover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.unix.FileDescriptor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The running relay's side of the protocol, on an {@link EmbeddedChannel} with a fake relay and listener. */
class HandoverSessionTest {

    /** The relay: two workers' sockets and the listeners; records what it was told. */
    private static final class FakeSource implements HandoverSource {
        final List<String> calls = new ArrayList<>();

        @Override
        public List<OfferedSocket> sockets() {
            return List.of(
                    new OfferedSocket(SocketRole.UDP, 11),
                    new OfferedSocket(SocketRole.UDP, 12),
                    new OfferedSocket(SocketRole.CONTROL, 13),
                    new OfferedSocket(SocketRole.METRICS, 14));
        }

        @Override
        public ObjectNode stopServing(long newPid) {
            calls.add("stop " + newPid);
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            out.putObject("counters").put("fwd_packets", 7);
            return out;
        }

        @Override
        public void resumeServing() {
            calls.add("resume");
        }

        @Override
        public void handedOver(long newPid) {
            calls.add("handed over " + newPid);
        }
    }

    private static final class FakeSlot implements HandoverSlot {
        boolean busy;
        final List<String> calls = new ArrayList<>();

        @Override
        public boolean claim() {
            if (busy) {
                return false;
            }
            busy = true;
            return true;
        }

        @Override
        public void release() {
            busy = false;
        }

        @Override
        public void stopListening() {
            calls.add("stop listening");
        }

        @Override
        public boolean relisten() {
            calls.add("relisten");
            return true;
        }
    }

    private final FakeSource source = new FakeSource();
    private final FakeSlot slot = new FakeSlot();

    private EmbeddedChannel session() {
        // The stop runs on the test's thread: no thread of its own to wait for.
        return new EmbeddedChannel(new HandoverSession(source, slot, Runnable::run));
    }

    private static void send(EmbeddedChannel ch, String type) {
        HandoverMessage m = HandoverMessage.of(type);
        m.body().put("pid", 99);
        ch.writeInbound(m.line().strip());
        ch.runPendingTasks();
    }

    private static HandoverMessage reply(EmbeddedChannel ch) {
        ByteBuf out = ch.readOutbound();
        try {
            return HandoverMessage.parse(out.toString(StandardCharsets.UTF_8).strip());
        } finally {
            out.release();
        }
    }

    @Test
    void aCompleteTakeoverOffersSendsTheDescriptorsInOrderStopsOnRunningAndExitsOnDone() {
        EmbeddedChannel ch = session();
        send(ch, HandoverMessage.HELLO);
        HandoverMessage offer = reply(ch).expect(HandoverMessage.OFFER);
        assertEquals(
                "[\"udp\",\"udp\",\"control\",\"metrics\"]",
                offer.body().path("sockets").toString());

        send(ch, HandoverMessage.SEND);
        List<Integer> fds = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            fds.add(assertInstanceOf(FileDescriptor.class, ch.readOutbound()).intValue());
        }
        assertEquals(List.of(11, 12, 13, 14), fds);
        assertTrue(source.calls.isEmpty(), "nothing stops before the new relay runs");

        send(ch, HandoverMessage.RUNNING);
        HandoverMessage stopped = reply(ch).expect(HandoverMessage.STOPPED);
        assertEquals(7, stopped.body().path("counters").path("fwd_packets").asLong());
        assertEquals(List.of("stop 99"), source.calls);
        assertEquals(List.of("stop listening"), slot.calls, "the path is free before 'stopped' leaves");

        send(ch, HandoverMessage.DONE);
        assertEquals(List.of("stop 99", "handed over 99"), source.calls);
        assertFalse(ch.isOpen());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aNewRelayThatLeavesBeforeRunningCostsNothingAndFreesTheSlot() {
        EmbeddedChannel ch = session();
        send(ch, HandoverMessage.HELLO);
        reply(ch);
        send(ch, HandoverMessage.SEND);
        ch.close();
        assertTrue(source.calls.isEmpty(), "the relay was never told to stop: " + source.calls);
        assertFalse(slot.busy, "the next takeover may come");
        ch.finishAndReleaseAll();
    }

    @Test
    void aNewRelayThatLeavesAfterStoppedWithoutDoneMakesTheOldOneServeAgain() {
        EmbeddedChannel ch = session();
        send(ch, HandoverMessage.HELLO);
        reply(ch);
        send(ch, HandoverMessage.SEND);
        for (int i = 0; i < 4; i++) {
            ch.readOutbound();
        }
        send(ch, HandoverMessage.RUNNING);
        reply(ch).expect(HandoverMessage.STOPPED);
        ch.close();
        assertEquals(List.of("stop 99", "resume"), source.calls);
        assertEquals(List.of("stop listening", "stop listening", "relisten"), slot.calls);
        assertFalse(slot.busy);
    }

    @Test
    void aSecondTakeoverWhileOneIsUnderWayIsRefused() {
        slot.busy = true;
        EmbeddedChannel ch = session();
        HandoverMessage answer = reply(ch);
        assertEquals(HandoverMessage.ERROR, answer.type());
        assertTrue(answer.body().path("reason").asText().contains("under way"));
        assertFalse(ch.isOpen());
        assertTrue(slot.busy, "the running takeover keeps its slot");
    }

    @Test
    void aMessageOutOfTurnIsAnsweredWithAnErrorAndTheRelayKeepsServing() {
        EmbeddedChannel ch = session();
        send(ch, HandoverMessage.RUNNING); // before hello
        HandoverMessage answer = reply(ch);
        assertEquals(HandoverMessage.ERROR, answer.type());
        assertFalse(ch.isOpen());
        assertTrue(source.calls.isEmpty());
        assertFalse(slot.busy);
        assertNull(ch.readOutbound());
    }
}
