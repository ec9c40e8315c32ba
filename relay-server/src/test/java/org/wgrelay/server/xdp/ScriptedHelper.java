package org.wgrelay.server.xdp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wgrelay.xdp.AbiLayout;
import org.wgrelay.xdp.HelperChannel;

/**
 * A helper process as the loader sees it, in memory: it answers {@code abi} with our own
 * layout, attaches any NIC in the mode asked (fresh, or as {@link #attachState} says), keeps the
 * config, NIC, peer and session entries as the protocol describes them (and dumps them), and
 * reports {@code stats} with zero counts. It records every command;
 * {@link #die} makes it behave as an exited helper (not alive, every call an I/O error).
 */
final class ScriptedHelper implements HelperChannel {
    final List<String> commands = new ArrayList<>();
    final Map<String, String> peers = new LinkedHashMap<>();
    /** {@code hub_ip hub_port receiver_index -> owner_ip owner_port egress_ifindex} */
    final Map<String, String> sessions = new LinkedHashMap<>();

    /** ifindex → {@code ip mac}, from {@code nic}; dumped under the name {@code lo}. */
    final Map<String, String> nics = new LinkedHashMap<>();
    /** Appended to every ok attach: {@code state=...} as the helper found the NIC. */
    String attachState = " state=fresh prog_id=1";
    /** The answer to {@code onexit keep}. */
    String onexitKeep = "ok onexit keep";

    int port;
    private boolean alive = true;

    void die() {
        alive = false;
    }

    @Override
    public synchronized String call(String command) throws IOException {
        commands.add(command);
        if (!alive) {
            throw new IOException("the XDP helper exited");
        }
        String[] f = command.split(" ");
        switch (f[0]) {
            case "attach" -> {
                return "ok attach iface=" + f[1] + " ifindex=1 mode=" + f[2] + " driver=? kernel=test" + attachState;
            }
            case "onexit" -> {
                return f[1].equals("keep") ? onexitKeep : "ok onexit " + f[1];
            }
            case "config" -> port = Integer.parseInt(f[1]);
            case "nic" -> nics.put(f[1], f[2] + " " + f[3]);
            case "unnic" -> nics.remove(f[1]);
            case "peer" ->
                peers.put(f[1] + " " + f[2], String.join(" ", List.of(f).subList(3, f.length)));
            case "unpeer" -> peers.remove(f[1] + " " + f[2]);
            case "session" -> sessions.put(f[1] + " " + f[2] + " " + f[3], f[4] + " " + f[5] + " " + f[6]);
            case "unsession" -> sessions.remove(f[1] + " " + f[2] + " " + f[3]);
            case "clear" -> {
                peers.clear();
                sessions.clear();
                nics.clear();
            }
            default -> {}
        }
        return "ok " + f[0];
    }

    @Override
    public synchronized List<String> callMulti(String command) throws IOException {
        commands.add(command);
        if (!alive) {
            throw new IOException("the XDP helper exited");
        }
        List<String> lines = new ArrayList<>();
        if (command.equals("abi")) {
            AbiLayout.EXPECTED.forEach((k, v) -> lines.add(k + " " + v)); // "a.b off size" and "a sizeof n"
        } else if (command.equals("stats")) {
            lines.add("stats rx=0 fwd=0 pass_no_peer=0 pass_no_mac=0 drop_shape=0 drop_block=0");
        } else if (command.equals("dump")) {
            lines.add("dump");
            lines.add("config " + port + " 1");
            nics.forEach((i, v) -> lines.add("nic " + i + " lo " + v));
            sessions.forEach((k, v) -> lines.add("session " + k + " " + v));
            peers.forEach((k, v) -> lines.add("peer " + k + " " + v));
        }
        return lines;
    }

    @Override
    public synchronized boolean alive() {
        return alive;
    }

    @Override
    public synchronized void close() {
        alive = false;
    }
}
