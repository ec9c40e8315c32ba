package org.wgrelay.xdp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A helper that keeps the maps as the protocol describes them, in memory, and records
 * every command. {@link #failWhen} makes chosen commands fail as the kernel might.
 */
final class FakeHelper implements HelperChannel {
    final List<String> commands = new ArrayList<>();
    final Map<String, String> peers = new HashMap<>();
    final Map<String, String> nics = new HashMap<>();
    final Map<String, String> blocklist = new HashMap<>();
    /** {@code hub_ip hub_port receiver_index -> owner_ip owner_port egress_ifindex} */
    final Map<String, String> sessions = new HashMap<>();

    /** ifindex → NIC name, as the real helper's {@code dump} resolves them. */
    final Map<String, String> ifnames = new HashMap<>(Map.of("3", "eth0"));

    int port;
    Predicate<String> failWhen = c -> false;
    boolean alive = true;
    /** False: answers {@code dump} as a helper without the command would. */
    boolean dumps = true;

    @Override
    public String call(String command) throws IOException {
        commands.add(command);
        if (!alive) {
            throw new IOException("the XDP helper exited");
        }
        if (failWhen.test(command)) {
            return "err " + command.split(" ")[0] + " reason=No space left on device";
        }
        String[] f = command.split(" ");
        switch (f[0]) {
            case "clear" -> {
                peers.clear();
                sessions.clear();
                nics.clear();
                blocklist.clear();
            }
            case "config" -> port = Integer.parseInt(f[1]);
            case "nic" -> nics.put(f[1], f[2] + " " + f[3]);
            case "unnic" -> nics.remove(f[1]);
            case "peer" ->
                peers.put(f[1] + " " + f[2], String.join(" ", List.of(f).subList(3, 7)));
            case "unpeer" -> peers.remove(f[1] + " " + f[2]);
            case "session" -> {
                if (f.length != 7 || Long.parseLong(f[3]) < 0 || Long.parseLong(f[3]) > 0xffffffffL) {
                    return "err session reason=usage";
                }
                sessions.put(
                        f[1] + " " + f[2] + " " + f[3],
                        String.join(" ", List.of(f).subList(4, 7)));
            }
            case "unsession" -> sessions.remove(f[1] + " " + f[2] + " " + f[3]);
            case "block" -> blocklist.put(f[1], f[2]);
            case "unblock" -> blocklist.remove(f[1]);
            case "ping" -> {
                return "pong";
            }
            default -> {
                return "err " + f[0] + " reason=unknown command";
            }
        }
        return "ok " + f[0];
    }

    @Override
    public List<String> callMulti(String command) throws IOException {
        commands.add(command);
        if (!alive) {
            throw new IOException("the XDP helper exited");
        }
        if (!command.equals("dump")) {
            return List.of();
        }
        if (!dumps) {
            throw new IOException("err dump reason=unknown command");
        }
        List<String> lines = new ArrayList<>();
        lines.add("dump");
        lines.add("config " + port + " 1");
        nics.forEach((i, v) -> lines.add("nic " + i + " " + ifnames.getOrDefault(i, "-") + " " + v));
        sessions.forEach((k, v) -> lines.add("session " + k + " " + v));
        peers.forEach((k, v) -> lines.add("peer " + k + " " + v + " 0"));
        blocklist.forEach((ip, seconds) -> lines.add("block " + ip + " " + seconds));
        return lines;
    }

    @Override
    public boolean alive() {
        return alive;
    }

    @Override
    public void close() {
        alive = false;
    }
}
