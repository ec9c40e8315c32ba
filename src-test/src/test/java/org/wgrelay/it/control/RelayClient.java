package org.wgrelay.it.control;

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

/** A plain-socket control client: one request line out, one response line back. */
final class RelayClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private String token;
    private long nextId = 1;

    RelayClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
    }

    /** Sends {@code token} with every later request. */
    RelayClient token(String t) {
        this.token = t;
        return this;
    }

    void writeLine(String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    String readLine() throws IOException {
        try {
            return in.readLine();
        } catch (SocketException e) {
            return null;
        }
    }

    JsonNode readJson() throws IOException {
        String line = readLine();
        if (line == null) {
            throw new AssertionError("the relay closed the connection instead of answering");
        }
        return ControlJson.MAPPER.readTree(line);
    }

    /** Sends one request and returns the whole response, checking that the id came back. */
    JsonNode call(String verb, String... args) throws IOException {
        long id = nextId++;
        ObjectNode req = JsonNodeFactory.instance.objectNode();
        req.put("id", id);
        req.put("verb", verb);
        ArrayNode a = req.putArray("args");
        for (String s : args) {
            a.add(s);
        }
        if (token != null) {
            req.put("token", token);
        }
        writeLine(req.toString());
        JsonNode response = readJson();
        if (response.path("id").asLong(-1) != id) {
            throw new AssertionError("request " + id + " answered with id " + response.get("id") + ": " + response);
        }
        return response;
    }

    /** The result of a request that must succeed. */
    JsonNode ok(String verb, String... args) throws IOException {
        JsonNode r = call(verb, args);
        if (!r.path("ok").asBoolean(false)) {
            throw new AssertionError(verb + " " + String.join(" ", args) + " failed: " + r);
        }
        return r.get("result");
    }

    /** The error code of a request that must fail. */
    String error(String verb, String... args) throws IOException {
        JsonNode r = call(verb, args);
        if (r.path("ok").asBoolean(true)) {
            throw new AssertionError(verb + " " + String.join(" ", args) + " should have failed: " + r);
        }
        if (r.path("error").path("message").asText("").isBlank()) {
            throw new AssertionError("an error without a message: " + r);
        }
        return r.get("error").get("code").asText();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
