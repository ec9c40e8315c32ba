package org.wgrelay.it.netns;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code nc -l PORT > FILE} in Java, run in a namespace through {@link JavaCommand}: accepts one
 * TCP connection, writes everything it receives to a file, closes, exits 0.
 *
 * <p>Prints {@code listening port=N} once the socket is bound, so the test starts the sender on a
 * condition, and {@code received bytes=N} at the end. The accept and every read are bounded by
 * {@code timeoutSeconds}; a stall exits non-zero with the exception on stderr.
 */
public final class TcpSink {

    private TcpSink() {}

    /** The argv that runs a sink on {@code port} writing to {@code file}. */
    public static List<String> command(int port, Path file, int timeoutSeconds) {
        return JavaCommand.of(
                List.of("-Xmx64m"),
                TcpSink.class.getName(),
                Integer.toString(port),
                file.toString(),
                Integer.toString(timeoutSeconds));
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path file = Path.of(args[1]);
        int timeoutMillis = Integer.parseInt(args[2]) * 1000;
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port));
            server.setSoTimeout(timeoutMillis);
            System.out.println("listening port=" + port);
            System.out.flush();
            try (Socket socket = server.accept();
                    InputStream in = socket.getInputStream();
                    OutputStream out = Files.newOutputStream(file)) {
                socket.setSoTimeout(timeoutMillis);
                long bytes = in.transferTo(out);
                System.out.println("received bytes=" + bytes + " from=" + socket.getRemoteSocketAddress());
            }
        }
    }
}
