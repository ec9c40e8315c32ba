// Soak: a plain-socket control channel client, one request line out, one response line back.
package org.wgrelay.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.wgrelay.control.protocol.ControlJson;

/** One control connection (SPEC "Control channel"); not thread-safe, one caller. */
final class ControlLine implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private long nextId = 1;

    ControlLine(InetSocketAddress control) throws IOException {
        socket = new Socket();
        socket.connect(control, 5000);
        socket.setSoTimeout(15_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
    }

    /** Sends one request; returns the response object (whether {@code ok} or not). */
    JsonNode call(String verb, String... args) throws IOException {
        ObjectNode req = ControlJson.MAPPER.createObjectNode();
        long id = nextId++;
        req.put("id", id);
        req.put("verb", verb);
        var a = req.putArray("args");
        for (String s : args) {
            a.add(s);
        }
        writeLine(ControlJson.MAPPER.writeValueAsString(req));
        String line = readLine();
        if (line == null) {
            throw new IOException("the relay closed the control connection");
        }
        JsonNode resp = ControlJson.MAPPER.readTree(line);
        if (resp.path("id").asLong(-1) != id) {
            throw new IOException("response out of order: " + line);
        }
        return resp;
    }

    /** As {@link #call}, but a response that is not ok is an error. */
    JsonNode ok(String verb, String... args) throws IOException {
        JsonNode r = call(verb, args);
        if (!r.path("ok").asBoolean()) {
            throw new IOException(verb + " " + String.join(" ", args) + ": " + r.path("error"));
        }
        return r.path("result");
    }

    void writeLine(String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    String readLine() throws IOException {
        return in.readLine();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
