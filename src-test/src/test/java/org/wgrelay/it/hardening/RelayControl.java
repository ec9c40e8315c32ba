package org.wgrelay.it.hardening;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.wgrelay.it.netns.Command;
import org.wgrelay.it.netns.JavaCommand;
import org.wgrelay.it.netns.Netns;
import org.wgrelay.it.netns.Prerequisites;
import org.wgrelay.it.netns.RelayProcess;
import org.wgrelay.server.server.Main;

/**
 * The control channel (SPEC, "Control channel") of a relay that runs in a namespace. Its listener
 * is on the namespace's loopback, which this JVM cannot reach, so every request runs inside the
 * namespace: {@link #call} as one JSON line over bash's {@code /dev/tcp} (cheap enough to poll
 * once a second), {@link #ctl} through the shipped {@code wg-relay ctl --json} client (a JVM per
 * call, so the client itself is part of the end-to-end path for the verbs that change state).
 */
final class RelayControl {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CONTROL = Pattern.compile("\\bcontrol=127\\.0\\.0\\.1:(\\d+)\\b");
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration CTL_TIMEOUT = Duration.ofSeconds(60);
    /** Writes $1 as one line to the control port and prints the one line that answers it. */
    private static final String ONE_REQUEST = "exec 3<>/dev/tcp/127.0.0.1/\"$0\" || exit 3;"
            + " printf '%s\\n' \"$1\" >&3; IFS= read -r -t 15 line <&3 || exit 4; printf '%s\\n' \"$line\"";

    private final Netns ns;
    private final int port;

    private RelayControl(Netns ns, int port) {
        this.ns = ns;
        this.port = port;
    }

    /** The control listener that {@code relay} named in its startup line (it binds port 0). */
    static RelayControl of(RelayProcess relay, Netns ns) {
        Matcher m = CONTROL.matcher(relay.startupLine());
        if (!m.find()) {
            throw new IllegalStateException("no loopback control=HOST:PORT in the startup line: "
                    + relay.startupLine());
        }
        return new RelayControl(ns, Integer.parseInt(m.group(1)));
    }

    /** Sends one request and returns its {@code result}; a refusal fails the test with the error. */
    JsonNode call(String verb, String... args) {
        ObjectNode request = JSON.createObjectNode();
        request.put("id", 1);
        request.put("verb", verb);
        var array = request.putArray("args");
        for (String arg : args) {
            array.add(arg);
        }
        Command.Result run = ns.tryExec(CALL_TIMEOUT, Prerequisites.which("bash"), "-c", ONE_REQUEST,
                Integer.toString(port), request.toString());
        if (!run.succeeded()) {
            throw new AssertionError("control request " + request + " failed: " + run.describe());
        }
        return resultOf(request.toString(), run.stdout());
    }

    /**
     * Runs {@code wg-relay ctl --control 127.0.0.1:PORT --json words...} in the namespace and
     * returns the response's {@code result}; a non-zero exit fails the test.
     */
    JsonNode ctl(String... words) {
        List<String> args = new ArrayList<>(List.of("ctl", "--control", "127.0.0.1:" + port, "--json"));
        args.addAll(List.of(words));
        List<String> argv = JavaCommand.of(List.of("-Xmx64m", "-XX:TieredStopAtLevel=1", "-Xshare:auto"),
                Main.class.getName(), args.toArray(String[]::new));
        Command.Result run = ns.tryExec(CTL_TIMEOUT, argv.toArray(String[]::new));
        if (!run.succeeded()) {
            throw new AssertionError("wg-relay ctl " + String.join(" ", words) + " failed: " + run.describe());
        }
        return resultOf(String.join(" ", words), run.stdout());
    }

    /** One peer's row of {@code wg peer list}. */
    JsonNode peer(String name) {
        for (JsonNode row : call("wg peer list").path("peers")) {
            if (name.equals(row.path("name").asText())) {
                return row;
            }
        }
        throw new AssertionError("wg peer list has no peer " + name);
    }

    /** One aggregate counter of {@code wg show}. */
    long counter(String key) {
        JsonNode value = call("wg show").get(key);
        if (value == null || !value.canConvertToLong()) {
            throw new AssertionError("wg show has no counter " + key);
        }
        return value.asLong();
    }

    /** The entry of {@code wg blocklist list} for {@code ip}, or null. */
    JsonNode blocklistEntry(String ip) {
        for (JsonNode entry : call("wg blocklist list").path("entries")) {
            if (ip.equals(entry.path("ip").asText())) {
                return entry;
            }
        }
        return null;
    }

    private static JsonNode resultOf(String request, String stdout) {
        JsonNode response;
        try {
            response = JSON.readTree(stdout.strip());
        } catch (IOException e) {
            throw new UncheckedIOException("control answer to " + request + " is not JSON: " + stdout, e);
        }
        if (response == null || !response.path("ok").asBoolean(false)) {
            throw new AssertionError("control request " + request + " was refused: " + stdout.strip());
        }
        return response.path("result");
    }
}
