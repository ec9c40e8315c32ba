package org.wgrelay.server.handover;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One control message of the handover protocol (docs/design.md, "Socket takeover"): a JSON
 * object on one line with {@code "v"} (the protocol version) and {@code "type"}. The file
 * descriptors travel between messages, each with one byte of data, never inside a line.
 *
 * <pre>
 * new → old   {"v":1,"type":"hello","pid":N}
 * old → new   {"v":1,"type":"offer","pid":N,"sockets":["udp",...,"control","metrics"]}
 * new → old   {"v":1,"type":"send"}           then the old sends one descriptor per socket, in order
 * new → old   {"v":1,"type":"running"}        the new relay reads the sockets
 * old → new   {"v":1,"type":"stopped","counters":{...},"peers":{...}}   the old stopped reading
 * new → old   {"v":1,"type":"done"}           the old exits 0
 * either      {"v":1,"type":"error","reason":"..."}, then closes
 * </pre>
 */
public final class HandoverMessage {
    public static final int VERSION = 1;

    public static final String HELLO = "hello";
    public static final String OFFER = "offer";
    public static final String SEND = "send";
    public static final String RUNNING = "running";
    public static final String STOPPED = "stopped";
    public static final String DONE = "done";
    public static final String ERROR = "error";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode body;

    private HandoverMessage(ObjectNode body) {
        this.body = body;
    }

    public static HandoverMessage of(String type) {
        ObjectNode body = JSON.createObjectNode();
        body.put("v", VERSION);
        body.put("type", type);
        return new HandoverMessage(body);
    }

    public static HandoverMessage error(String reason) {
        HandoverMessage m = of(ERROR);
        m.body.put("reason", reason);
        return m;
    }

    /** Parses one line; throws {@link HandoverException} for anything but a version-1 message. */
    public static HandoverMessage parse(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new HandoverException("not a handover message: " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode o) || !o.path("type").isTextual()) {
            throw new HandoverException("not a handover message");
        }
        if (o.path("v").asInt(-1) != VERSION) {
            throw new HandoverException("handover protocol version " + o.path("v") + " is not " + VERSION);
        }
        return new HandoverMessage(o);
    }

    public String type() {
        return body.path("type").asText();
    }

    public ObjectNode body() {
        return body;
    }

    /** Throws unless this is a {@code type} message; an error message's reason is the exception's. */
    public HandoverMessage expect(String type) {
        if (type().equals(ERROR)) {
            throw new HandoverException(
                    "the other relay answered: " + body.path("reason").asText());
        }
        if (!type().equals(type)) {
            throw new HandoverException("expected " + type + ", got " + type());
        }
        return this;
    }

    /** The line to send, newline included. */
    public String line() {
        return body + "\n";
    }

    @Override
    public String toString() {
        return body.toString();
    }
}
