package org.wgrelay.control.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import org.wgrelay.control.protocol.ControlJson;

/**
 * A plain-socket control client for tests: writes raw bytes or request objects, reads
 * response lines. Deliberately not the production client, so tests see the wire.
 */
public final class LineClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private long nextId = 1;

    public LineClient(int port) throws IOException {
        this(port, 0);
    }

    /** @param receiveBuffer a small receive buffer (set before connecting), or 0 for the default */
    public LineClient(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8), 1 << 16);
        out = socket.getOutputStream();
    }

    public Socket socket() {
        return socket;
    }

    public void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void writeLine(String line) throws IOException {
        writeRaw((line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The next line, or null at end of stream (a reset after the last line also counts as the end). */
    public String readLine() throws IOException {
        try {
            return in.readLine();
        } catch (SocketException e) {
            return null; // the server closed with our bytes unread: the kernel sent RST
        }
    }

    public JsonNode readJson() throws IOException {
        String line = readLine();
        if (line == null) {
            throw new AssertionError("the server closed the connection instead of answering");
        }
        return ControlJson.MAPPER.readTree(line);
    }

    /** True once the server has closed the connection (reads to the end, discarding lines). */
    public boolean closedByServer() throws IOException {
        while (true) {
            String line = readLine();
            if (line == null) {
                return true;
            }
        }
    }

    public static ObjectNode request(Object id, String verb, String... args) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("id", ControlJson.MAPPER.valueToTree(id));
        o.put("verb", verb);
        ArrayNode a = o.putArray("args");
        for (String s : args) {
            a.add(s);
        }
        return o;
    }

    /** Sends a request with a fresh numeric id, reads the answer and checks the id came back. */
    public JsonNode call(String verb, String... args) throws IOException {
        return callWithToken(null, verb, args);
    }

    public JsonNode callWithToken(String token, String verb, String... args) throws IOException {
        long id = nextId++;
        ObjectNode req = request(id, verb, args);
        if (token != null) {
            req.put("token", token);
        }
        writeLine(req.toString());
        JsonNode response = readJson();
        if (response.path("id").asLong(-1) != id) {
            throw new AssertionError(
                    "response to request " + id + " carries id " + response.get("id") + ": " + response);
        }
        return response;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
