package org.wgrelay.it.netns;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code nc -N HOST PORT < FILE} in Java, run in a namespace through {@link JavaCommand}: connects
 * (retrying until the listener is up or the deadline passes), sends the file, half-closes, and
 * waits for the receiver to close so that exit 0 means the receiver has read every byte.
 */
public final class TcpSource {

    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    private static final long RETRY_PAUSE_MILLIS = 100;

    private TcpSource() {}

    /** The argv that sends {@code file} to {@code host:port}. */
    public static List<String> command(String host, int port, Path file, int timeoutSeconds) {
        return command(host, port, file, timeoutSeconds, 0);
    }

    /** As above, at most {@code bytesPerSecond} (0: as fast as TCP goes). */
    public static List<String> command(String host, int port, Path file, int timeoutSeconds, long bytesPerSecond) {
        return JavaCommand.of(
                List.of("-Xmx64m"),
                TcpSource.class.getName(),
                host,
                Integer.toString(port),
                file.toString(),
                Integer.toString(timeoutSeconds),
                Long.toString(bytesPerSecond));
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress target = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        Path file = Path.of(args[2]);
        int timeoutMillis = Integer.parseInt(args[3]) * 1000;
        long rate = args.length > 4 ? Long.parseLong(args[4]) : 0;
        try (Socket socket = connect(target, System.nanoTime() + timeoutMillis * 1_000_000L)) {
            socket.setSoTimeout(timeoutMillis);
            long bytes;
            try (InputStream in = Files.newInputStream(file)) {
                bytes = rate > 0 ? paced(in, socket.getOutputStream(), rate) : in.transferTo(socket.getOutputStream());
            }
            socket.shutdownOutput();
            if (socket.getInputStream().read() != -1) {
                throw new IOException("receiver sent data instead of closing");
            }
            System.out.println("sent bytes=" + bytes + " to=" + target);
        }
    }

    /** Copies in 64 KiB steps, never ahead of {@code rate} bytes a second since the start. */
    private static long paced(InputStream in, java.io.OutputStream out, long rate) throws Exception {
        byte[] chunk = new byte[64 * 1024];
        long start = System.nanoTime();
        long total = 0;
        int n;
        while ((n = in.read(chunk)) > 0) {
            out.write(chunk, 0, n);
            total += n;
            long due = start + total * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
        }
        return total;
    }

    /** Connection refused means the listener is not up yet: retry until the deadline. */
    private static Socket connect(InetSocketAddress target, long deadlineNanos) throws Exception {
        while (true) {
            Socket socket = new Socket();
            try {
                socket.connect(target, CONNECT_TIMEOUT_MILLIS);
                return socket;
            } catch (IOException e) {
                socket.close();
                if (System.nanoTime() > deadlineNanos) {
                    throw new IOException("cannot connect to " + target + " before the deadline", e);
                }
                Thread.sleep(RETRY_PAUSE_MILLIS);
            }
        }
    }
}
