package org.wgrelay.control.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * SPEC's newline-delimited JSON: parses request lines and writes response and event
 * lines. Parsing is strict about shape (an object with a string {@code verb}, string
 * {@code args}, a scalar {@code id}) and bounded (nesting depth, string length), so a
 * hostile line costs little and is answered with {@code bad_request}.
 */
public final class ControlJson {
    /** No legitimate request nests deeper than the request object and its args array. */
    static final int MAX_NESTING_DEPTH = 16;

    public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_NESTING_DEPTH)
                            .maxStringLength(1 << 16)
                            .maxNumberLength(64)
                            .build())
                    // {"verb":"wg show","verb":"wg peer remove"} must not mean what the last key says:
                    // a proxy or log reader would see a different request than the relay runs.
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            // One request per line: anything after the object is a malformed line, not ignored.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // Ids are echoed exactly, also 1e400 or 0.1.
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));

    private ControlJson() {}

    /**
     * Parses one request line (without its newline).
     *
     * @throws ControlException {@code bad_request}, with the request's id when it could be read
     */
    public static ControlRequest parseRequest(String line) throws ControlException {
        JsonNode root;
        try {
            root = MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new ControlException(ErrorCodes.BAD_REQUEST, "not valid JSON: " + firstLine(e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new ControlException(ErrorCodes.BAD_REQUEST, "a request is a JSON object");
        }
        JsonNode verb = root.get("verb");
        if (verb == null || !verb.isTextual() || verb.asText().isBlank()) {
            throw new ControlException(ErrorCodes.BAD_REQUEST, "\"verb\" must be a non-empty string");
        }
        JsonNode argsNode = root.get("args");
        List<String> args = new ArrayList<>();
        if (argsNode != null && !argsNode.isNull()) {
            if (!argsNode.isArray()) {
                throw new ControlException(ErrorCodes.BAD_REQUEST, "\"args\" must be an array of strings");
            }
            for (JsonNode a : argsNode) {
                if (!a.isTextual()) {
                    throw new ControlException(ErrorCodes.BAD_REQUEST, "\"args\" must be an array of strings");
                }
                args.add(a.asText());
            }
        }
        JsonNode token = root.get("token");
        if (token != null && !token.isNull() && !token.isTextual()) {
            throw new ControlException(ErrorCodes.BAD_REQUEST, "\"token\" must be a string");
        }
        return new ControlRequest(
                idOf(root),
                verb.asText().trim().replaceAll("\\s+", " "),
                List.copyOf(args),
                token == null || token.isNull() ? null : token.asText());
    }

    /** The request's id if it is a scalar, else JSON null (SPEC: unparseable lines echo null). */
    public static JsonNode idOf(String line) {
        try {
            return idOf(MAPPER.readTree(line));
        } catch (JsonProcessingException | RuntimeException e) {
            return NullNode.getInstance();
        }
    }

    private static JsonNode idOf(JsonNode root) {
        if (root == null || !root.isObject()) {
            return NullNode.getInstance();
        }
        JsonNode id = root.get("id");
        return id != null && id.isValueNode() ? id : NullNode.getInstance();
    }

    public static String okLine(JsonNode id, Object result) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("id", id == null ? NullNode.getInstance() : id);
        o.put("ok", true);
        o.set("result", MAPPER.valueToTree(result));
        return write(o);
    }

    public static String errorLine(JsonNode id, String code, String message) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("id", id == null ? NullNode.getInstance() : id);
        o.put("ok", false);
        ObjectNode error = o.putObject("error");
        error.put("code", code);
        error.put("message", message);
        return write(o);
    }

    public static String eventLine(String event, Object data) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("event", event);
        o.set("data", MAPPER.valueToTree(data));
        return write(o);
    }

    /** Reads a map out of a JSON object node (for the client's rendering). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> toMap(JsonNode node) {
        return MAPPER.convertValue(node, Map.class);
    }

    private static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of our own making always serialises", e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        Iterator<String> lines = s.lines().iterator();
        String first = lines.hasNext() ? lines.next() : "";
        return first.length() > 200 ? first.substring(0, 200) + "..." : first;
    }
}
