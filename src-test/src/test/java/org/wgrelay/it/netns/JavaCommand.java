package org.wgrelay.it.netns;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The argv that runs a main class of the test class path in a fresh JVM (used inside namespaces). */
public final class JavaCommand {

    private JavaCommand() {}

    /**
     * {@code <java.home>/bin/java -cp <test class path> [jvmOptions...] mainClass args...}. Surefire
     * may hand this JVM a manifest-only booter jar as {@code java.class.path}; its real test class
     * path, which contains relay-server and these helpers, is preferred when present.
     */
    public static List<String> of(List<String> jvmOptions, String mainClass, String... args) {
        String classPath = System.getProperty("surefire.test.class.path");
        if (classPath == null || classPath.isBlank()) {
            classPath = System.getProperty("java.class.path");
        }
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.add("-cp");
        argv.add(classPath);
        argv.addAll(jvmOptions);
        argv.add(mainClass);
        argv.addAll(List.of(args));
        return argv;
    }
}
