package org.wgrelay.server.roster;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * A peer's UDP endpoint: a literal IP address and a port. Parsed from and written as
 * SPEC's {@code ip:port} or {@code [v6addr]:port}; never resolves host names.
 * IPv4-mapped IPv6 addresses are normalised to IPv4 so that one peer has one key.
 */
public final class Endpoint {
    private final InetAddress address;
    private final int port;
    private final InetSocketAddress socketAddress;

    private Endpoint(InetAddress address, int port) {
        this.address = address;
        this.port = port;
        this.socketAddress = new InetSocketAddress(address, port);
    }

    public static Endpoint of(InetAddress address, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range 1..65535: " + port);
        }
        return new Endpoint(normalise(address), port);
    }

    /**
     * Parses {@code a.b.c.d:port} or {@code [v6]:port}.
     *
     * @throws IllegalArgumentException with a sentence saying what is wrong
     */
    public static Endpoint parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("endpoint is empty; expected ip:port");
        }
        if (text.length() > MAX_TEXT_LENGTH) {
            throw new IllegalArgumentException("endpoint '" + quote(text) + "' is too long; expected ip:port");
        }
        String host;
        String portText;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("bad IPv6 endpoint '" + quote(text) + "'; expected [addr]:port");
            }
            host = text.substring(1, close);
            portText = text.substring(close + 2);
            if (host.indexOf(':') < 0) {
                throw new IllegalArgumentException("'" + quote(host) + "' in brackets is not an IPv6 address");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException(
                        "bad endpoint '" + quote(text) + "'; expected ip:port (IPv6 as [addr]:port)");
            }
            host = text.substring(0, colon);
            portText = text.substring(colon + 1);
            if (!isIpv4Literal(host)) {
                throw new IllegalArgumentException("'" + quote(host) + "' is not an IPv4 address literal");
            }
        }
        int port = parsePort(portText, text);
        return of(parseLiteral(host, text), port);
    }

    /** Longer than any IPv6 endpoint ({@code [v6 with zone]:65535}); refuses junk early. */
    private static final int MAX_TEXT_LENGTH = 64;

    /** Input as it may appear in an error message: cut short, control characters masked. */
    private static String quote(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    private static int parsePort(String portText, String whole) {
        if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("bad port in '" + quote(whole) + "'; expected 1..65535");
        }
        int port = Integer.parseInt(portText);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " in '" + quote(whole) + "' is out of range 1..65535");
        }
        return port;
    }

    private static boolean isIpv4Literal(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return false;
            }
            if (Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    private static InetAddress parseLiteral(String host, String whole) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean ok =
                    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
            if (!ok) {
                // Refuse anything that InetAddress would try to resolve (names, scope ids).
                throw new IllegalArgumentException(
                        "'" + quote(host) + "' in '" + quote(whole) + "' is not an IP address literal");
            }
        }
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(
                    "'" + quote(host) + "' in '" + quote(whole) + "' is not an IP address literal");
        }
    }

    /** Maps an IPv4-mapped IPv6 address to its IPv4 form. Cold path: allocates. */
    public static InetAddress normalise(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            mapped &= b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            if (mapped) {
                try {
                    return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
                } catch (UnknownHostException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return address;
    }

    public InetAddress address() {
        return address;
    }

    public int port() {
        return port;
    }

    public boolean isIpv4() {
        return address instanceof Inet4Address;
    }

    /** The preallocated socket address that the forwarder sends to. */
    public InetSocketAddress socketAddress() {
        return socketAddress;
    }

    /** SPEC's spelling: {@code ip:port}, IPv6 as {@code [addr]:port}. */
    @Override
    public String toString() {
        return format(address, port);
    }

    public static String format(InetAddress address, int port) {
        String host = hostText(address);
        return address instanceof Inet6Address ? "[" + host + "]:" + port : host + ":" + port;
    }

    /** The address alone: dotted IPv4, or IPv6 in RFC 5952's compressed form ({@code ::1}). */
    public static String hostText(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        // The longest run of two or more zero groups becomes "::" (the first such run on a tie).
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Endpoint && ((Endpoint) o).port == port && ((Endpoint) o).address.equals(address);
    }

    @Override
    public int hashCode() {
        return Objects.hash(address, port);
    }
}
