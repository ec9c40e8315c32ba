package org.wgrelay.server.roster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The roster file (SPEC "Roster file"): loads it with {@code file:line} errors and
 * writes it atomically — temporary file in the same directory, fsync, rename over the
 * old file, fsync the directory — so a crash leaves either the old or the new file
 * whole, never a torn one.
 *
 * <pre>
 * peer &lt;name&gt; &lt;ip:port&gt; [pubkey-base64|-] [label...]
 * link &lt;name-a&gt; &lt;name-b&gt;
 * nic &lt;peer-name&gt; &lt;iface&gt;
 * </pre>
 */
public final class RosterFile {
    private static final Logger LOG = LoggerFactory.getLogger(RosterFile.class);
    /** Larger than any sane roster (10,000 peers is about 1 MiB); refuses to read /dev/zero. */
    static final long MAX_FILE_BYTES = 64L * 1024 * 1024;

    /** The step between the fsynced temporary file and the rename; a seam for crash tests. */
    @FunctionalInterface
    interface Mover {
        void move(Path from, Path to) throws IOException;
    }

    private final Path path;
    private final Mover mover;

    public RosterFile(Path path) {
        this(path, RosterFile::atomicMove);
    }

    RosterFile(Path path, Mover mover) {
        this.path = path.toAbsolutePath().normalize();
        this.mover = mover;
    }

    public Path path() {
        return path;
    }

    /** Loads the roster; a file that does not exist is an empty roster. */
    public Roster load() throws RosterFileException {
        return load(1);
    }

    /**
     * Loads the roster for a relay whose peers may be in up to {@code maxLinksPerPeer} links;
     * a peer in more refuses the load, naming the file and line of the link over the limit.
     */
    public Roster load(int maxLinksPerPeer) throws RosterFileException {
        byte[] bytes;
        try {
            if (Files.isDirectory(path)) {
                throw new RosterFileException(path + ": is a directory, not a roster file");
            }
            if (Files.exists(path) && Files.size(path) > MAX_FILE_BYTES) {
                throw new RosterFileException(path + ": larger than " + MAX_FILE_BYTES + " bytes, refusing to load");
            }
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return Roster.empty(maxLinksPerPeer);
        } catch (IOException e) {
            throw new RosterFileException(path + ": cannot read: " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new RosterFileException(path + ": not valid UTF-8 text");
        }
        return parse(text, path.toString(), maxLinksPerPeer);
    }

    /** Parses roster text; {@code source} names it in error messages. */
    public static Roster parse(String text, String source) throws RosterFileException {
        return parse(text, source, 1);
    }

    /** As {@link #parse(String, String)}, with peers in up to {@code maxLinksPerPeer} links. */
    public static Roster parse(String text, String source, int maxLinksPerPeer) throws RosterFileException {
        Roster.Builder builder = Roster.builder(maxLinksPerPeer);
        String[] lines = text.split("\r?\n", -1);
        boolean seenLink = false;
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            String where = source + ":" + lineNo + ": ";
            RosterChange change;
            switch (f[0]) {
                case "peer":
                    if (seenLink) {
                        throw new RosterFileException(where + "peer lines must come before link lines");
                    }
                    change = parsePeer(builder, f, where);
                    break;
                case "link":
                    seenLink = true;
                    expectFields(f, 3, 3, where, "link <name-a> <name-b>");
                    change = builder.apply(r -> r.addLink(f[1], f[2]));
                    break;
                case "nic":
                    expectFields(f, 3, 3, where, "nic <peer-name> <iface>");
                    change = builder.apply(r -> r.setNic(f[1], f[2]));
                    break;
                default:
                    throw new RosterFileException(
                            where + "unknown entry '" + RosterNames.printable(f[0]) + "'; expected peer, link or nic");
            }
            if (!change.ok()) {
                throw new RosterFileException(
                        where + change.message() + " (" + change.outcome().code() + ")");
            }
        }
        return builder.build();
    }

    private static RosterChange parsePeer(Roster.Builder builder, String[] f, String where) throws RosterFileException {
        expectFields(f, 3, Integer.MAX_VALUE, where, "peer <name> <ip:port|-> [pubkey-base64|-] [label...]");
        Endpoint endpoint;
        try {
            endpoint = f[2].equals("-") ? null : Endpoint.parse(f[2]); // "-": not known yet (SPEC E)
        } catch (IllegalArgumentException e) {
            throw new RosterFileException(where + e.getMessage());
        }
        String pubkey = f.length > 3 && !f[3].equals("-") ? f[3] : null;
        String label = f.length > 4 ? String.join(" ", java.util.Arrays.copyOfRange(f, 4, f.length)) : null;
        return builder.apply(r -> r.addPeer(f[1], endpoint, pubkey, label));
    }

    private static void expectFields(String[] f, int min, int max, String where, String usage)
            throws RosterFileException {
        if (f.length < min || f.length > max) {
            throw new RosterFileException(where + "expected '" + usage + "'");
        }
    }

    /** The file's text for a roster: peers, then links, then NIC pins. */
    public static String format(Roster roster) {
        StringBuilder sb = new StringBuilder();
        sb.append("# wg-relay roster: rewritten by the relay after every change.\n");
        sb.append("# peer <name> <ip:port> [pubkey-base64|-] [label...] / link <a> <b> / nic <peer> <iface>\n");
        for (PeerEntry p : roster.peers()) {
            sb.append("peer ").append(p.name()).append(' ').append(p.endpoint() == null ? "-" : p.endpoint());
            if (p.pubkey() != null || p.label() != null) {
                sb.append(' ').append(p.pubkey() == null ? "-" : p.pubkey());
            }
            if (p.label() != null) {
                sb.append(' ').append(p.label());
            }
            sb.append('\n');
        }
        for (Link l : roster.links()) {
            sb.append("link ").append(l.a()).append(' ').append(l.b()).append('\n');
        }
        for (PeerEntry p : roster.peers()) {
            if (p.nic() != null) {
                sb.append("nic ").append(p.name()).append(' ').append(p.nic()).append('\n');
            }
        }
        return sb.toString();
    }

    /**
     * Deletes this roster's temporary files last modified before {@code olderThanMillis} (epoch
     * millis): what a relay killed in the middle of {@link #write} leaves behind. The loader
     * never reads them, but a relay restarted after every crash would pile them up. Newer ones
     * are left alone: another relay on the same roster (a takeover) may be writing one. Returns
     * how many were deleted; a file that cannot be deleted is skipped.
     */
    public int removeStaleTemporaries(long olderThanMillis) {
        Path dir = path.toAbsolutePath().getParent();
        String prefix = "." + path.getFileName() + ".";
        int removed = 0;
        try (DirectoryStream<Path> tmps = Files.newDirectoryStream(dir, prefix + "*.tmp")) {
            for (Path tmp : tmps) {
                try {
                    if (Files.getLastModifiedTime(tmp).toMillis() < olderThanMillis && Files.deleteIfExists(tmp)) {
                        removed++;
                    }
                } catch (IOException e) {
                    LOG.warn("cannot remove stale roster temporary {}: {}", tmp, e.toString());
                }
            }
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            LOG.warn("cannot list {} for stale roster temporaries: {}", dir, e.toString());
        }
        return removed;
    }

    /** Writes the roster atomically; on failure the old file is untouched. */
    public void write(Roster roster) throws RosterFileException {
        Path dir = path.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + path.getFileName() + ".", ".tmp");
            try (FileChannel ch =
                    FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(format(roster).getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            mover.move(tmp, path);
            tmp = null;
        } catch (IOException e) {
            throw new RosterFileException(path + ": cannot write roster: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The stray temporary file is harmless: the loader never reads it.
                }
            }
        }
        try {
            fsyncDirectory(dir);
        } catch (IOException e) {
            // The rename is done and the new roster is what a restart loads; reporting a
            // failure now would tell the operator "nothing changed" when it did. Only the
            // rename's durability across a power cut is in doubt.
            LOG.warn("roster {} written, but syncing its directory failed: {}", path, e.toString());
        }
    }

    private static void atomicMove(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename atomically", e);
        }
    }

    /** Makes the rename itself durable. */
    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
