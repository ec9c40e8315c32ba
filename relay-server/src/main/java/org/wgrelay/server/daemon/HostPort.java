package org.wgrelay.server.daemon;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A listener address given as {@code HOST:PORT} ({@code [v6]:PORT} for IPv6). The host
 * is an IP literal or {@code localhost}; port 0 asks the kernel for a free port.
 */
public record HostPort(String host, int port) {

    public static HostPort parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty address; expected HOST:PORT");
        }
        String host;
        String portText;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException("'" + text + "' is not [IPv6]:PORT");
            }
            host = text.substring(1, close);
            portText = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + text + "' is not HOST:PORT (IPv6 as [addr]:PORT)");
            }
            host = text.substring(0, colon);
            portText = text.substring(colon + 1);
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + portText + "' in '" + text + "' is not a port number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " in '" + text + "' is out of range 0..65535");
        }
        if (!host.equals("localhost") && !host.matches("[0-9A-Fa-f:.]+")) {
            throw new IllegalArgumentException("'" + host + "' in '" + text + "' is not an IP address or localhost");
        }
        HostPort hp = new HostPort(host, port);
        hp.socketAddress(); // validates the literal
        return hp;
    }

    public InetSocketAddress socketAddress() {
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + host + "' is not an IP address or localhost");
        }
    }

    public boolean isLoopback() {
        return socketAddress().getAddress().isLoopbackAddress();
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
