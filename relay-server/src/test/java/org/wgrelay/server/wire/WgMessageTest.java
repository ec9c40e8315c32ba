package org.wgrelay.server.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.server.TestPackets.expectedShape;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wgrelay.server.TestPackets;

/** SPEC rule 2: what is WireGuard-shaped, read from the reader index on. */
class WgMessageTest {

    private static final int MAX_LENGTH = 2048;

    @Test
    void protocolConstantsAreTheOnesOfTheWireGuardPaper() {
        assertEquals(1, WgMessage.TYPE_HANDSHAKE_INITIATION);
        assertEquals(2, WgMessage.TYPE_HANDSHAKE_RESPONSE);
        assertEquals(3, WgMessage.TYPE_COOKIE_REPLY);
        assertEquals(4, WgMessage.TYPE_TRANSPORT_DATA);
        assertEquals(148, WgMessage.HANDSHAKE_INITIATION_LENGTH);
        assertEquals(92, WgMessage.HANDSHAKE_RESPONSE_LENGTH);
        assertEquals(64, WgMessage.COOKIE_REPLY_LENGTH);
        assertEquals(32, WgMessage.TRANSPORT_DATA_MIN_LENGTH);
        assertEquals(4, WgMessage.SENDER_INDEX_OFFSET);
        assertEquals(8, WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET);
        assertEquals(4, WgMessage.RECEIVER_INDEX_OFFSET);
        assertEquals(32, WgMessage.MAC1_FROM_END);
        assertEquals(16, WgMessage.MAC_LENGTH);
        assertEquals(0, WgMessage.NOT_SHAPED);
    }

    @ParameterizedTest(name = "type word {0}")
    @ValueSource(
            ints = {0, 1, 2, 3, 4, 5, 0xFF, 0x0101, 0x0104, 0x01_00_00_04, 0x00_01_00_01, 0xFFFF_FFFF, 0x8000_0004})
    void shapesEveryLengthFromZeroTo2048ExactlyAsSpecRuleTwoSays(int typeWord) {
        List<String> wrong = new ArrayList<>();
        for (int length = 0; length <= MAX_LENGTH; length++) {
            ByteBuf buf = TestPackets.datagram(typeWord, length);
            try {
                int shape = WgMessage.shapedType(buf);
                if (shape != expectedShape(typeWord, length)) {
                    wrong.add("len=" + length + " gave " + shape);
                }
                assertEquals(0, buf.readerIndex(), "shapedType must not move the reader index");
            } finally {
                buf.release();
            }
        }
        assertTrue(wrong.isEmpty(), "wrong shapes: " + wrong);
    }

    @Test
    void acceptsEachTypeOnlyAtItsOwnLength() {
        for (int type = 1; type <= 3; type++) {
            int shaped = 0;
            for (int length = 0; length <= MAX_LENGTH; length++) {
                ByteBuf buf = TestPackets.datagram(type, length);
                shaped += WgMessage.shapedType(buf) == type ? 1 : 0;
                buf.release();
            }
            assertEquals(1, shaped, "type " + type + " is shaped at exactly one length");
        }
    }

    @Test
    void acceptsTransportDataOfEveryLengthFrom32On() {
        for (int length : new int[] {32, 33, 148, 1452, 9216, 65507}) {
            ByteBuf buf = TestPackets.datagram(4, length);
            assertEquals(4, WgMessage.shapedType(buf), "len " + length);
            buf.release();
        }
        ByteBuf tooShort = TestPackets.datagram(4, 31);
        assertEquals(WgMessage.NOT_SHAPED, WgMessage.shapedType(tooShort));
        tooShort.release();
    }

    @Test
    void anyNonZeroReservedByteMakesAMessageUnshaped() {
        for (int type = 1; type <= 4; type++) {
            int length = TestPackets.shapedLength(type);
            for (int reserved = 1; reserved <= 3; reserved++) {
                for (int value = 1; value <= 0xFF; value++) {
                    ByteBuf buf = TestPackets.datagram(type, length);
                    buf.setByte(reserved, value);
                    assertEquals(
                            WgMessage.NOT_SHAPED,
                            WgMessage.shapedType(buf),
                            "type " + type + " with byte " + reserved + " = " + value);
                    buf.release();
                }
            }
        }
    }

    @Test
    void readsTheTypeWordAtTheReaderIndexNotAtIndexZero() {
        // Bytes 0..3 say "transport data" but the datagram starts at 8 with type 9.
        ByteBuf buf = Unpooled.buffer(8 + 64);
        buf.writeIntLE(4).writeIntLE(4).writeBytes(TestPackets.bytes(9, 64, 1));
        buf.readerIndex(8);
        assertEquals(WgMessage.NOT_SHAPED, WgMessage.shapedType(buf));
        assertEquals(8, buf.readerIndex());
        buf.release();

        // Junk before the reader index; a cookie reply after it.
        ByteBuf cookie = Unpooled.buffer(5 + 64);
        cookie.writeBytes(new byte[] {9, 9, 9, 9, 9}).writeBytes(TestPackets.bytes(3, 64, 2));
        cookie.readerIndex(5);
        assertEquals(3, WgMessage.shapedType(cookie));
        assertEquals(5, cookie.readerIndex());
        cookie.release();
    }

    @Test
    void measuresTheLengthFromReaderIndexToWriterIndexOnly() {
        // An initiation followed by spare capacity and bytes past the writer index.
        ByteBuf buf = Unpooled.buffer(512);
        buf.writeBytes(new byte[512]);
        buf.clear();
        buf.writeZero(3).writeBytes(TestPackets.bytes(1, 148, 3));
        buf.readerIndex(3);
        assertEquals(1, WgMessage.shapedType(buf));
        buf.writerIndex(buf.writerIndex() - 1);
        assertEquals(WgMessage.NOT_SHAPED, WgMessage.shapedType(buf), "147 readable bytes are not an initiation");
        buf.release();
    }

    @Test
    void aReaderIndexNearTheEndLeavesTooFewBytesForATypeWord() {
        ByteBuf buf = TestPackets.datagram(4, 64);
        for (int left = 0; left < 4; left++) {
            buf.readerIndex(64 - left);
            assertEquals(WgMessage.NOT_SHAPED, WgMessage.shapedType(buf), left + " bytes left");
        }
        buf.release();
    }

    @Test
    void readsATypeWordSplitAcrossTheComponentsOfACompositeBuffer() {
        byte[] msg = TestPackets.bytes(2, 92, 4);
        CompositeByteBuf composite = Unpooled.compositeBuffer();
        composite.addComponent(true, Unpooled.wrappedBuffer(msg, 0, 2));
        composite.addComponent(true, Unpooled.wrappedBuffer(msg, 2, 90));
        assertEquals(2, WgMessage.shapedType(composite));
        composite.release();
    }

    @Test
    void readsIndexFieldsLittleEndianRelativeToTheReaderIndex() {
        ByteBuf buf = Unpooled.buffer(2 + 92);
        buf.writeZero(2);
        buf.writeIntLE(2).writeIntLE(0x11223344).writeIntLE(0xCAFEBABE).writeZero(80);
        buf.readerIndex(2);
        assertEquals(0x11223344, WgMessage.index(buf, WgMessage.SENDER_INDEX_OFFSET));
        assertEquals(0xCAFEBABE, WgMessage.index(buf, WgMessage.RESPONSE_RECEIVER_INDEX_OFFSET));
        assertEquals(2, buf.readerIndex());
        buf.release();
    }
}
