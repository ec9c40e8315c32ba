package org.wgrelay.server.roster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.Permission;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** SPEC's {@code ip:port} / {@code [v6]:port} endpoints: parsing, formatting, and what is refused. */
class EndpointTest {

    @ParameterizedTest
    @ValueSource(strings = {"192.0.2.1:51820", "0.0.0.1:1", "255.255.255.255:65535", "10.0.0.1:1", "203.0.113.7:40000"})
    void formatsAnIpv4EndpointExactlyAsItWasWritten(String text) {
        Endpoint e = Endpoint.parse(text);
        assertTrue(e.isIpv4());
        assertEquals(text, e.toString());
        assertEquals(e, Endpoint.parse(e.toString()));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "[2001:db8::1]:51820",
                "[::1]:1",
                "[fe80::1]:65535",
                "[2001:DB8:0:0:0:0:0:ABCD]:5",
                "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:7",
                "[2001:db8::192.0.2.1]:9"
            })
    void roundTripsAnIpv6EndpointThroughItsBracketedForm(String text) {
        Endpoint e = Endpoint.parse(text);
        assertFalse(e.isIpv4());
        assertTrue(e.address() instanceof Inet6Address);
        String formatted = e.toString();
        assertTrue(formatted.startsWith("[") && formatted.contains("]:"), formatted);
        assertEquals(e, Endpoint.parse(formatted));
        assertEquals(formatted, Endpoint.parse(formatted).toString(), "the format is a fixed point");
    }

    @Test
    void roundTripsRandomEndpointsOfBothFamilies() throws Exception {
        Random random = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] raw = new byte[random.nextBoolean() ? 4 : 16];
            random.nextBytes(raw);
            int port = 1 + random.nextInt(65535);
            Endpoint e = Endpoint.of(InetAddress.getByAddress(raw), port);
            Endpoint back = Endpoint.parse(e.toString());
            assertEquals(e, back, e.toString());
            assertEquals(e.hashCode(), back.hashCode());
            assertEquals(e.toString(), back.toString());
            assertEquals(port, back.port());
        }
    }

    @Test
    void normalisesAnIpv4MappedIpv6AddressToItsIpv4Form() throws Exception {
        Endpoint parsed = Endpoint.parse("[::ffff:192.0.2.1]:5");
        assertTrue(parsed.isIpv4());
        assertEquals("192.0.2.1:5", parsed.toString());
        assertEquals(Endpoint.parse("192.0.2.1:5"), parsed);

        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 1};
        Endpoint of = Endpoint.of(Inet6Address.getByAddress(null, mapped, -1), 5);
        assertTrue(of.address() instanceof Inet4Address);
        assertEquals(parsed, of);
    }

    @Test
    void keepsAnIpv4CompatibleButUnmappedIpv6AddressAsIpv6() throws Exception {
        byte[] notMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xfe, (byte) 192, 0, 2, 1};
        Endpoint e = Endpoint.of(Inet6Address.getByAddress(null, notMapped, -1), 5);
        assertFalse(e.isIpv4());
        assertNotEquals(Endpoint.parse("192.0.2.1:5"), e);
    }

    @Test
    void formatsAScopedIpv6AddressWithoutItsScope() throws Exception {
        Inet6Address scoped =
                Inet6Address.getByAddress(null, InetAddress.getByName("fe80::1").getAddress(), 3);
        assertEquals("[fe80::1]:7", Endpoint.of(scoped, 7).toString());
    }

    @ParameterizedTest(name = "{0} is written {1}")
    @org.junit.jupiter.params.provider.CsvSource({
        "[2001:db8:0:0:0:0:0:2]:1, [2001:db8::2]:1",
        "[2001:0DB8:0000:0000:0000:0000:0000:0001]:1, [2001:db8::1]:1",
        "[0:0:0:0:0:0:0:1]:1, [::1]:1",
        "[0:0:0:0:0:0:0:0]:1, [::]:1",
        "[1:0:0:0:0:0:0:0]:1, [1::]:1",
        "[0:0:1:2:3:4:5:6]:1, [::1:2:3:4:5:6]:1",
        "[1:0:0:1:0:0:0:1]:1, [1:0:0:1::1]:1",
        "[1:0:0:1:1:0:0:1]:1, [1::1:1:0:0:1]:1",
        "[1:0:1:1:1:1:1:1]:1, [1:0:1:1:1:1:1:1]:1",
        "[fe80:0:0:0:abcd:ef01:0:0]:1, [fe80::abcd:ef01:0:0]:1",
        "[2001:db8::192.0.2.1]:1, [2001:db8::c000:201]:1"
    })
    void writesIpv6InTheCompressedFormOfRfc5952(String written, String canonical) {
        assertEquals(canonical, Endpoint.parse(written).toString());
        assertEquals(canonical, Endpoint.parse(canonical).toString());
    }

    @Test
    void offersTheSamePreallocatedSocketAddressOnEveryCall() {
        Endpoint e = Endpoint.parse("192.0.2.1:51820");
        assertSame(e.socketAddress(), e.socketAddress());
        assertEquals(e.address(), e.socketAddress().getAddress());
        assertEquals(51820, e.socketAddress().getPort());
    }

    @Test
    void equalityIsByAddressAndPort() {
        assertEquals(Endpoint.parse("192.0.2.1:1"), Endpoint.parse("192.0.2.1:1"));
        assertNotEquals(Endpoint.parse("192.0.2.1:1"), Endpoint.parse("192.0.2.1:2"));
        assertNotEquals(Endpoint.parse("192.0.2.1:1"), Endpoint.parse("192.0.2.2:1"));
        assertEquals(Endpoint.parse("[2001:db8::1]:1"), Endpoint.parse("[2001:db8:0::1]:1"));
        assertNotEquals(Endpoint.parse("[::1]:1"), Endpoint.parse("127.0.0.1:1"));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, 100000, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void refusesAPortOutsideOneTo65535(int port) throws Exception {
        InetAddress ip = InetAddress.getByName("192.0.2.1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.of(ip, port));
        assertTrue(e.getMessage().contains("1..65535"), e.getMessage());
    }

    static Stream<String> hostileEndpoints() {
        return Stream.of(
                "",
                "localhost:1",
                "example.com:5",
                "LOCALHOST:51820",
                "dead.beef:5",
                "cafe:5",
                "abc.def.ab.cd:5",
                "1.2.3.4",
                "1.2.3.4:",
                ":5",
                ":",
                "1.2.3.4:0",
                "1.2.3.4:65536",
                "1.2.3.4:99999",
                "1.2.3.4:123456",
                "1.2.3.4:-1",
                "1.2.3.4:+5",
                "1.2.3.4: 5",
                " 1.2.3.4:5",
                "1.2.3.4:5 ",
                "1.2.3.4:5\n",
                "1.2.3.4:5:6",
                "1.2.3.4:0x10",
                "1.2.3.4:５",
                "١.٢.٣.٤:5",
                "256.1.1.1:5",
                "1.2.3:5",
                "1.2.3.4.5:6",
                "1..3.4:5",
                "1.2.3.:5",
                ".1.2.3:5",
                "0x7f.0.0.1:5",
                "1234.1.1.1:5",
                "-1.2.3.4:5",
                "[::1]",
                "[::1]:",
                "[::1]:0",
                "[::1]:65536",
                "[::1]5",
                "[::1",
                "::1]:5",
                "::1:5",
                "2001:db8::1:5",
                "[1.2.3.4]:5",
                "[localhost]:5",
                "[::1%lo]:5",
                "[fe80::1%eth0]:5",
                "[fe80::1%1]:5",
                "[g::1]:5",
                "[12345::]:5",
                "[1::2::3]:5",
                "[:]:5",
                "[]:5",
                "[[::1]]:5",
                "[::1]:5]",
                "[1:2]:5",
                "[1:2:3:4:5:6:7:8:9]:5",
                "[example.com]:5",
                "[::ffff:localhost]:5",
                "1".repeat(100_000) + ":5",
                "1.2.3.4:" + "5".repeat(10_000),
                "[" + "1:".repeat(50_000) + "1]:5",
                "a".repeat(1_000_000),
                "1.2.3.4:5\u0000");
    }

    @ParameterizedTest
    @MethodSource("hostileEndpoints")
    void refusesAHostileEndpointStringWithASentence(String text) {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Endpoint.parse(text),
                () -> "accepted '" + abbreviate(text) + "'");
        assertFalse(e.getMessage() == null || e.getMessage().isBlank());
    }

    @Test
    void refusesNull() {
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(null));
    }

    @SuppressWarnings("removal")
    @Test
    void neverAsksTheResolverAboutAnyHostileEndpoint() throws Exception {
        List<String> lookups = new ArrayList<>();
        SecurityManager noLookups = new SecurityManager() {
            @Override
            public void checkPermission(Permission perm) {
                // Everything else is allowed; only name lookups are watched.
            }

            @Override
            public void checkConnect(String host, int port) {
                if (port == -1) {
                    lookups.add(host);
                    throw new SecurityException("name lookup of " + host);
                }
            }
        };
        try {
            installSecurityManager(noLookups);
        } catch (UnsupportedOperationException e) {
            Assumptions.abort("this JVM does not allow a security manager to watch name lookups");
        }
        try {
            // The watch works: a name lookup is seen and stopped before it reaches DNS.
            assertThrows(SecurityException.class, () -> InetAddress.getByName("wg-relay-probe.invalid"));
            lookups.clear();
            List<String> all = new ArrayList<>(hostileEndpoints().toList());
            all.addAll(List.of("192.0.2.1:5", "[2001:db8::1]:5", "[::ffff:192.0.2.1]:5"));
            for (String text : all) {
                try {
                    Endpoint.parse(text);
                } catch (IllegalArgumentException expected) {
                    // Refusal is fine; a lookup is not.
                }
            }
        } finally {
            installSecurityManager(null);
        }
        assertEquals(List.of(), lookups, "Endpoint.parse must never resolve a name");
    }

    @SuppressWarnings("removal")
    private static void installSecurityManager(SecurityManager sm) {
        System.setSecurityManager(sm);
    }

    @Test
    void keepsTheErrorMessageShortForAHugeEndpoint() {
        for (String text : List.of(
                "1".repeat(100_000) + ":5", "[" + "1:".repeat(50_000) + "1]:5", "1.2.3.4:" + "5".repeat(10_000))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(text));
            assertTrue(
                    e.getMessage().length() < 300,
                    "message of " + e.getMessage().length() + " chars");
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "...(" + s.length() + " chars)" : s;
    }
}
