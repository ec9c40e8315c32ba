package org.wgrelay.it.netns;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The argv that runs a main class of the test class path in a fresh JVM (used inside namespaces). */
public final class JavaCommand {

    /** Taken once, at first use; see {@link #classPath()}. */
    private static String snapshot;

    private JavaCommand() {}

    /**
     * {@code <java.home>/bin/java -cp <test class path> [jvmOptions...] mainClass args...}. Surefire
     * may hand this JVM a manifest-only booter jar as {@code java.class.path}; its real test class
     * path, which contains relay-server and these helpers, is preferred when present.
     */
    public static List<String> of(List<String> jvmOptions, String mainClass, String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.add("-cp");
        argv.add(classPath());
        argv.addAll(jvmOptions);
        argv.add(mainClass);
        argv.addAll(List.of(args));
        return argv;
    }

    /**
     * The test class path with this project's own entries copied to a private directory, once
     * per test JVM. A concurrent {@code mvn install} rewrites the SNAPSHOT jars in the local
     * repository in place, and a child JVM that loads a class lazily from a rewritten jar dies
     * with {@code NoClassDefFoundError} mid-test (seen with the relay's roaming classes, which
     * load on the first unknown source). Released third-party jars never change, so they stay.
     */
    static synchronized String classPath() {
        if (snapshot == null) {
            snapshot = snapshotOf(testClassPath());
        }
        return snapshot;
    }

    private static String testClassPath() {
        String classPath = System.getProperty("surefire.test.class.path");
        if (classPath == null || classPath.isBlank()) {
            classPath = System.getProperty("java.class.path");
        }
        return classPath;
    }

    private static String snapshotOf(String classPath) {
        Path dir;
        try {
            dir = Files.createTempDirectory("wgr-classpath-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir), "wgr-classpath-cleanup"));
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : classPath.split(File.pathSeparator)) {
            Path source = Path.of(entry);
            boolean own =
                    Files.isDirectory(source) || source.getFileName().toString().contains("-SNAPSHOT");
            if (entry.isBlank() || !Files.exists(source) || !own) {
                entries.add(entry);
                continue;
            }
            Path target = dir.resolve(n++ + "-" + source.getFileName());
            try {
                copy(source, target);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot snapshot class path entry " + source, e);
            }
            entries.add(target.toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void copy(Path source, Path target) throws IOException {
        if (!Files.isDirectory(source)) {
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
            return;
        }
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path path : paths.toList()) {
                Path to = target.resolve(source.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(path, to, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // Best effort at JVM exit; the directory lives under the temp dir.
        }
    }
}
