// Load generator: registers a hub and its spokes over the control channel.
package org.wgrelay.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.wgrelay.control.protocol.ControlJson;

/**
 * The operator's side of the hub benchmark: {@code wg peer add}, {@code wg peer
 * pubkey} for the hub and every spoke, then {@code wg link add hub spokeK} for
 * each, over one control connection (SPEC "Control channel"). Keys are stamped
 * before any link because a hub's second link needs them ({@code
 * wg_pubkey_required}). Requests are pipelined in windows of {@link #WINDOW}
 * lines: each mutating verb rewrites the roster, and a round trip per verb
 * would add a scheduler wake-up to each.
 *
 * <p>Names and endpoints ({@link HubLayout}) and keys ({@link
 * HubHandshakes#publicKey}) are functions of the spoke number, so the process
 * that sends traffic needs nothing from this one.
 */
final class HubRegistration {
    static final int WINDOW = 64;

    private final InetSocketAddress control;
    private final String token;

    HubRegistration(InetSocketAddress control, String token) {
        this.control = control;
        this.token = token;
    }

    /** Registers the layout; returns the number of verbs sent. Throws on the first error. */
    int register(HubLayout layout) throws IOException {
        List<String[]> verbs = new ArrayList<>();
        for (int k = -1; k < layout.spokes; k++) {
            String name = k < 0 ? HubLayout.HUB : HubLayout.spokeName(k);
            String ep = k < 0 ? layout.hubEndpoint() : layout.spokeEndpoint(k);
            verbs.add(new String[] {"wg peer add", name, ep, "hub bench"});
            verbs.add(new String[] {
                "wg peer pubkey", name, Base64.getEncoder().encodeToString(HubHandshakes.publicKey(name))
            });
        }
        for (int k = 0; k < layout.spokes; k++) {
            verbs.add(new String[] {"wg link add", HubLayout.HUB, HubLayout.spokeName(k)});
        }
        try (Socket s = new Socket()) {
            s.connect(control, 5000);
            s.setSoTimeout(60_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            for (int from = 0; from < verbs.size(); from += WINDOW) {
                int to = Math.min(verbs.size(), from + WINDOW);
                StringBuilder lines = new StringBuilder();
                for (int i = from; i < to; i++) {
                    lines.append(request(i, verbs.get(i))).append('\n');
                }
                out.write(lines.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
                for (int i = from; i < to; i++) {
                    String line = in.readLine();
                    if (line == null) {
                        throw new IOException("control connection closed after " + i + " answers");
                    }
                    JsonNode r = ControlJson.MAPPER.readTree(line);
                    if (!r.path("ok").asBoolean(false)) {
                        throw new IOException(String.join(" ", verbs.get(i)) + " failed: " + r.path("error"));
                    }
                }
            }
        }
        return verbs.size();
    }

    private String request(int id, String[] verb) {
        ObjectNode req = ControlJson.MAPPER.createObjectNode();
        req.put("id", id);
        req.put("verb", verb[0]);
        var args = req.putArray("args");
        for (int i = 1; i < verb.length; i++) {
            args.add(verb[i]);
        }
        if (token != null) {
            req.put("token", token);
        }
        return req.toString();
    }
}
