package org.wgrelay.it.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.noise.WgRejectedException.Reason;

/** The test-side handshake generator against itself, in memory: shapes, keys, and every refusal. */
class WgHandshakeRoundTripTest {

    private final WgPeer alice = WgPeer.generate();
    private final WgPeer bob = WgPeer.generate().allow(alice.publicKey());

    @Test
    void initiationResponseAndTransportBothWaysDecrypt() {
        WgHandshake handshake = alice.initiate(bob.publicKey(), 0x11223344);
        byte[] initiation = handshake.message();
        assertEquals(WgLayout.INITIATION_LENGTH, initiation.length);
        assertEquals(WgLayout.TYPE_INITIATION, WgLayout.type(initiation), "type word with zero reserved bytes");
        assertEquals(0x11223344, WgLayout.int32(initiation, WgLayout.SENDER_INDEX));
        assertArrayEquals(new byte[16], Arrays.copyOfRange(initiation, 132, 148), "mac2 without cookie");

        WgResponse answer = bob.respond(initiation, 0x55667788);
        byte[] response = answer.message();
        assertEquals(WgLayout.RESPONSE_LENGTH, response.length);
        assertEquals(WgLayout.TYPE_RESPONSE, WgLayout.type(response));
        assertEquals(0x55667788, WgLayout.int32(response, WgLayout.SENDER_INDEX));
        assertEquals(0x11223344, WgLayout.int32(response, WgLayout.RESPONSE_RECEIVER_INDEX));
        assertArrayEquals(alice.publicKey(), answer.initiatorPublicKey());
        assertTrue(Mac1.verifies(response, alice.publicKey()), "a response carries mac1 for the initiator");

        WgSession aliceSession = handshake.consume(response);
        WgSession bobSession = answer.session();
        assertEquals(0x55667788, aliceSession.remoteIndex());
        assertEquals(0x11223344, bobSession.remoteIndex());

        byte[] hello = "hello bob".getBytes(StandardCharsets.US_ASCII);
        byte[] toBob = aliceSession.seal(hello);
        assertEquals(WgLayout.TYPE_TRANSPORT, WgLayout.type(toBob));
        assertEquals(0x55667788, WgLayout.int32(toBob, WgLayout.RECEIVER_INDEX));
        assertEquals(16 + hello.length + 16, toBob.length);
        assertArrayEquals(hello, bobSession.open(toBob));

        byte[] reply = "hello alice, twice".getBytes(StandardCharsets.US_ASCII);
        bobSession.seal(new byte[0]);
        byte[] toAlice = bobSession.seal(reply);
        assertEquals(1, WgLayout.counter(toAlice), "counters count up from 0");
        assertArrayEquals(reply, aliceSession.open(toAlice));

        byte[] keepalive = aliceSession.keepalive();
        assertEquals(WgLayout.TRANSPORT_MIN_LENGTH, keepalive.length);
        assertArrayEquals(new byte[0], bobSession.open(keepalive));
    }

    @Test
    void mac1VerifiesAgainstTheResponderKeyAndFailsAgainstAnother() {
        byte[] initiation = alice.initiate(bob.publicKey()).message();

        assertTrue(Mac1.verifies(initiation, bob.publicKey()));
        assertFalse(Mac1.verifies(initiation, alice.publicKey()));
        assertFalse(Mac1.verifies(initiation, WgKeyPair.generate().publicKey()));
        WgRejectedException refused = assertThrows(
                WgRejectedException.class,
                () -> WgPeer.generate().allow(alice.publicKey()).respond(initiation));
        assertEquals(Reason.MAC1_MISMATCH, refused.reason());
    }

    @Test
    void tamperingWithAnyByteBeforeMac2MakesTheResponderRejectTheInitiation() {
        byte[] genuine = alice.initiate(bob.publicKey()).message();
        for (int i = 0; i < WgLayout.INITIATION_LENGTH - WgLayout.MAC2_FROM_END; i++) {
            byte[] tampered = genuine.clone();
            tampered[i] ^= 0x01;
            WgRejectedException refused =
                    assertThrows(WgRejectedException.class, () -> bob.respond(tampered), "byte " + i + " flipped");
            assertEquals(i < 4 ? Reason.NOT_SHAPED : Reason.MAC1_MISMATCH, refused.reason(), "byte " + i);
        }
        bob.respond(genuine); // and the untouched original is still accepted
    }

    @Test
    void tamperingWithEphemeralStaticOrTimestampIsRejectedEvenWithARecomputedMac1() {
        byte[] genuine = alice.initiate(bob.publicKey()).message();
        for (int i = 8; i < WgLayout.INITIATION_LENGTH - WgLayout.MAC1_FROM_END; i++) {
            byte[] forged = genuine.clone();
            forged[i] ^= (byte) 0x80; // the top bit of the ephemeral's last byte is ignored by X25519, but hashed
            Mac1.stamp(forged, bob.publicKey());
            WgRejectedException refused = assertThrows(
                    WgRejectedException.class, () -> bob.respond(forged), "byte " + i + " flipped, mac1 recomputed");
            assertEquals(Reason.DECRYPTION_FAILED, refused.reason(), "byte " + i);
        }
    }

    /** Why the relay must not trust a sender index: only mac1, which anyone with the public key can make, covers it. */
    @Test
    void aRewrittenSenderIndexWithARecomputedMac1IsAcceptedAndEchoedByTheResponder() {
        byte[] forged = alice.initiate(bob.publicKey(), 1).message();
        WgLayout.putInt32(forged, WgLayout.SENDER_INDEX, 2);
        Mac1.stamp(forged, bob.publicKey());

        assertEquals(2, bob.respond(forged).receiverIndex());
    }

    /** As in WireGuard when not under load: mac2 is only checked once the responder asks for cookies. */
    @Test
    void mac2IsNotCheckedWithoutACookie() {
        byte[] initiation = alice.initiate(bob.publicKey()).message();
        initiation[WgLayout.INITIATION_LENGTH - 1] ^= 0x01;

        assertEquals(
                WgLayout.int32(initiation, WgLayout.SENDER_INDEX),
                bob.respond(initiation).receiverIndex(),
                "bob answers alice's initiation despite the altered mac2");
    }

    @Test
    void aReplayedInitiationIsRefusedButANewerOneIsAccepted() {
        byte[] first = alice.initiate(bob.publicKey()).message();
        byte[] second = alice.initiate(bob.publicKey()).message();
        bob.respond(first);

        assertEquals(
                Reason.REPLAYED_TIMESTAMP,
                assertThrows(WgRejectedException.class, () -> bob.respond(first))
                        .reason());
        bob.respond(second);
        assertEquals(
                Reason.REPLAYED_TIMESTAMP,
                assertThrows(WgRejectedException.class, () -> bob.respond(first))
                        .reason());
    }

    @Test
    void anInitiationFromAnIdentityTheResponderDoesNotKnowIsRefused() {
        byte[] initiation = WgPeer.generate().initiate(bob.publicKey()).message();

        assertEquals(
                Reason.UNKNOWN_PEER,
                assertThrows(WgRejectedException.class, () -> bob.respond(initiation))
                        .reason());
    }

    @Test
    void aResponseIsConsumedOnlyByTheHandshakeWhoseIndexItEchoes() {
        WgHandshake first = alice.initiate(bob.publicKey(), 7);
        WgHandshake second = alice.initiate(bob.publicKey(), 8);
        byte[] answerToSecond = bob.respond(second.message()).message();

        assertEquals(
                Reason.INDEX_MISMATCH,
                assertThrows(WgRejectedException.class, () -> first.consume(answerToSecond))
                        .reason());
        second.consume(answerToSecond);
        assertEquals(
                Reason.ALREADY_CONSUMED,
                assertThrows(WgRejectedException.class, () -> second.consume(answerToSecond))
                        .reason());
    }

    @Test
    void aResponseTamperedBeforeMac2IsRefusedByTheInitiator() {
        WgHandshake handshake = alice.initiate(bob.publicKey());
        byte[] forged = bob.respond(handshake.message()).message();
        forged[WgLayout.RESPONSE_EMPTY] ^= 0x01;
        Mac1.stamp(forged, alice.publicKey());

        assertEquals(
                Reason.DECRYPTION_FAILED,
                assertThrows(WgRejectedException.class, () -> handshake.consume(forged))
                        .reason());
    }

    @Test
    void transportMessagesAreRefusedWhenReplayedMisaddressedOrTampered() {
        WgHandshake handshake = alice.initiate(bob.publicKey());
        WgResponse answer = bob.respond(handshake.message());
        WgSession aliceSession = handshake.consume(answer.message());
        WgSession bobSession = answer.session();

        byte[] message = aliceSession.seal(new byte[] {1, 2, 3});
        bobSession.open(message);
        assertEquals(
                Reason.REPLAYED_COUNTER,
                assertThrows(WgRejectedException.class, () -> bobSession.open(message))
                        .reason());

        byte[] misaddressed = aliceSession.seal(new byte[] {4});
        WgLayout.putInt32(misaddressed, WgLayout.RECEIVER_INDEX, bobSession.localIndex() + 1);
        assertEquals(
                Reason.INDEX_MISMATCH,
                assertThrows(WgRejectedException.class, () -> bobSession.open(misaddressed))
                        .reason());

        byte[] tampered = aliceSession.seal(new byte[] {5});
        tampered[WgLayout.TRANSPORT_HEADER_LENGTH] ^= 0x01;
        assertEquals(
                Reason.DECRYPTION_FAILED,
                assertThrows(WgRejectedException.class, () -> bobSession.open(tampered))
                        .reason());

        byte[] late = aliceSession.seal(new byte[] {6}, 100);
        byte[] early = aliceSession.seal(new byte[] {7}, 50);
        assertArrayEquals(new byte[] {6}, bobSession.open(late));
        assertArrayEquals(new byte[] {7}, bobSession.open(early), "reordered within the window");
    }

    /** RFC 7748 section 6.1, Alice's key pair. */
    @Test
    void aFixedPrivateKeyGivesTheRfc7748PublicKey() {
        HexFormat hex = HexFormat.of();
        WgKeyPair pair = WgKeyPair.fromPrivateKey(
                hex.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));

        assertEquals(
                "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", hex.formatHex(pair.publicKey()));
        assertEquals(pair, WgKeyPair.fromBase64(pair.privateKeyBase64()));
        assertArrayEquals(pair.publicKey(), WgKeyPair.decodePublicKey(pair.publicKeyBase64()));
    }

    /** RFC 7693 appendix B, and the two protocol constants every WireGuard handshake starts from. */
    @Test
    void blake2sMatchesItsRfcVectorAndTheHandshakeStartsFromWireGuardsConstants() {
        HexFormat hex = HexFormat.of();
        assertEquals(
                "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
                hex.formatHex(WgCrypto.hash("abc".getBytes(StandardCharsets.US_ASCII))));
        assertEquals(
                "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s",
                new String(NoiseState.CONSTRUCTION, StandardCharsets.US_ASCII));
        assertEquals(
                "WireGuard v1 zx2c4 Jason@zx2c4.com", new String(NoiseState.IDENTIFIER, StandardCharsets.US_ASCII));
    }

    @Test
    void anIcmpEchoRequestParsesBackWithValidChecksumsAndItsReplySwapsTheAddresses() throws Exception {
        Inet4Address a = (Inet4Address) InetAddress.getByName("10.240.0.2");
        Inet4Address b = (Inet4Address) InetAddress.getByName("10.240.0.1");
        byte[] request = Ipv4Icmp.echoRequest(a, b, 0x1234, 7, new byte[] {1, 2, 3});

        Ipv4Icmp.Echo echo = Ipv4Icmp.parse(request);
        assertEquals(Ipv4Icmp.ECHO_REQUEST, echo.type());
        Ipv4Icmp.Echo reply = Ipv4Icmp.parse(echo.reply());
        assertEquals(Ipv4Icmp.ECHO_REPLY, reply.type());
        assertEquals(b, reply.source());
        assertEquals(a, reply.destination());
        assertEquals(7, reply.sequence());
        request[25] ^= 0x01;
        assertThrows(IllegalArgumentException.class, () -> Ipv4Icmp.parse(request));
    }
}
