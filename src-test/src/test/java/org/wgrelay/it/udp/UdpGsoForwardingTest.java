package org.wgrelay.it.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wgrelay.it.control.LocalRelay.await;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wgrelay.it.control.LocalRelay;
import org.wgrelay.it.netns.UdpSnmp;
import org.wgrelay.server.roster.Endpoint;

/**
 * UDP GSO on the relay's sends ({@code --udp-gso}, {@code SegmentBatcher}) with real sockets on
 * loopback: a burst of transport datagrams in mixed sizes — runs of equal sizes, shorter and
 * longer ones between, one above the 32 KiB a group may hold — arrives at the partner as the
 * same datagrams, byte for byte and in order, while the relay made fewer sends than it forwarded
 * datagrams (the kernel's {@code Udp: OutDatagrams} counts one per GSO send). With {@code
 * --udp-gso off} it makes one send per datagram, which shows the count can tell the two apart.
 */
class UdpGsoForwardingTest {
    /** Sizes cycled through: runs of one size, a shorter last, a longer one, a large one. */
    private static final int[] SIZES = {
        1452, 1452, 1452, 1452, 800, 1452, 1452, 148, 148, 148, 148, 148, 148, 32, 9000, 9000, 1452, 64, 64, 96
    };

    private static final int DATAGRAMS = 4000;

    /**
     * Datagrams in flight at most: enough for the relay to read several per batch, few enough
     * that no socket buffer overflows (they are capped by {@code net.core.rmem_max}).
     */
    private static final int WINDOW = 64;

    private LocalRelay relay;

    @AfterEach
    void stop() throws Exception {
        if (relay != null) {
            relay.close();
        }
    }

    /** What one burst through the relay showed. */
    private record Burst(List<byte[]> sent, List<byte[]> received, long kernelSends) {}

    private Burst burst(boolean gso) throws Exception {
        relay = LocalRelay.withUdpGso(gso);
        Random random = new Random(7);
        try (DatagramSocket alice = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DatagramSocket bob = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            bob.setReceiveBufferSize(8 << 20);
            bob.setSoTimeout(5000);
            assertTrue(relay.daemon
                    .roster()
                    .addPeer("alice", Endpoint.of(alice.getLocalAddress(), alice.getLocalPort()), null, null)
                    .ok());
            assertTrue(relay.daemon
                    .roster()
                    .addPeer("bob", Endpoint.of(bob.getLocalAddress(), bob.getLocalPort()), null, null)
                    .ok());
            assertTrue(relay.daemon.roster().addLink("alice", "bob").ok());
            InetSocketAddress to = relay.udpAddress("127.0.0.1");

            List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < DATAGRAMS; i++) {
                byte[] d = WgDatagrams.transport(SIZES[i % SIZES.length], random);
                // the sequence number in the counter field, so order is visible in any failure
                ByteBuffer.wrap(d).putLong(8, i);
                sent.add(d);
            }
            AtomicInteger arrived = new AtomicInteger();
            CompletableFuture<List<byte[]>> received = CompletableFuture.supplyAsync(() -> {
                List<byte[]> got = new ArrayList<>();
                DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
                try {
                    while (got.size() < DATAGRAMS) {
                        bob.receive(p);
                        got.add(Arrays.copyOf(p.getData(), p.getLength()));
                        arrived.incrementAndGet();
                    }
                } catch (java.io.IOException e) {
                    // a timeout: the assertion below names how many arrived
                }
                return got;
            });
            long outBefore = outDatagrams();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int i = 0; i < sent.size(); i++) {
                while (i - arrived.get() >= WINDOW && !received.isDone() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                byte[] d = sent.get(i);
                alice.send(new DatagramPacket(d, d.length, to));
            }
            List<byte[]> got = received.get(30, TimeUnit.SECONDS);
            await("the relay counted every datagram", () -> relay.show("fwd_packets") == got.size());
            long kernelSends = outDatagrams() - outBefore - DATAGRAMS; // less alice's own sends
            return new Burst(sent, got, kernelSends);
        }
    }

    private static long outDatagrams() throws Exception {
        return UdpSnmp.field(Files.readString(Path.of("/proc/net/snmp")), "OutDatagrams");
    }

    private static void assertSameDatagrams(Burst b) {
        assertEquals(b.sent().size(), b.received().size(), "datagrams arrived (loopback loses none)");
        for (int i = 0; i < b.sent().size(); i++) {
            assertArrayEquals(b.sent().get(i), b.received().get(i), "datagram " + i + " (in order, byte for byte)");
        }
    }

    @Test
    void aBurstInMixedSizesArrivesUnchangedInFewerSendsThanDatagrams() throws Exception {
        Burst b = burst(true);
        assertSameDatagrams(b);
        assertTrue(
                b.kernelSends() < DATAGRAMS * 3 / 4,
                "GSO groups: " + b.kernelSends() + " sends for " + DATAGRAMS + " datagrams");
    }

    @Test
    void withGsoOffEveryDatagramIsASendOfItsOwn() throws Exception {
        Burst b = burst(false);
        assertSameDatagrams(b);
        assertTrue(
                b.kernelSends() >= DATAGRAMS,
                "one send per datagram: " + b.kernelSends() + " sends for " + DATAGRAMS + " datagrams");
    }
}
