package org.wgrelay.server.handover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HandoverMessageTest {

    @Test
    void aMessageIsOneJsonLineWithTheVersionAndItsType() {
        HandoverMessage hello = HandoverMessage.of(HandoverMessage.HELLO);
        hello.body().put("pid", 42);
        String line = hello.line();
        assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, line);
        HandoverMessage back = HandoverMessage.parse(line.strip());
        assertEquals("hello", back.type());
        assertEquals(42, back.body().path("pid").asLong());
        assertEquals(1, back.body().path("v").asInt());
    }

    @Test
    void anotherProtocolVersionIsRefusedRatherThanGuessedAt() {
        HandoverException e = assertThrows(
                HandoverException.class, () -> HandoverMessage.parse("{\"v\":2,\"type\":\"hello\",\"pid\":1}"));
        assertTrue(e.getMessage().contains("version"), e.getMessage());
    }

    @Test
    void somethingThatIsNotAMessageIsRefused() {
        assertThrows(HandoverException.class, () -> HandoverMessage.parse("not json"));
        assertThrows(HandoverException.class, () -> HandoverMessage.parse("[1,2]"));
        assertThrows(HandoverException.class, () -> HandoverMessage.parse("{\"v\":1}"));
    }

    @Test
    void expectingOneTypeAndGettingAnErrorReportsTheOtherSidesReason() {
        HandoverMessage error = HandoverMessage.parse(
                HandoverMessage.error("another takeover is under way").line().strip());
        HandoverException e = assertThrows(HandoverException.class, () -> error.expect(HandoverMessage.OFFER));
        assertTrue(e.getMessage().contains("another takeover is under way"), e.getMessage());
        HandoverMessage stopped = HandoverMessage.of(HandoverMessage.STOPPED);
        assertThrows(HandoverException.class, () -> stopped.expect(HandoverMessage.OFFER));
    }

    @Test
    void socketRolesHaveStableWireNames() {
        for (SocketRole r : SocketRole.values()) {
            assertEquals(r, SocketRole.fromWire(r.wireName()));
        }
        assertEquals("udp", SocketRole.UDP.wireName());
        assertThrows(HandoverException.class, () -> SocketRole.fromWire("tcp"));
    }
}
