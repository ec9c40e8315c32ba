package org.wgrelay.xdp;

import java.io.IOException;
import java.util.List;

/**
 * The line protocol to the XDP helper ({@code bpf/PROTOCOL.md}): one command line out,
 * its answer back. The seam between policy (Java) and the kernel (the helper): tests
 * put a fake behind it.
 */
public interface HelperChannel extends AutoCloseable {
    /** Sends one command and returns its one answer line. */
    String call(String command) throws IOException;

    /** Sends one command whose answer is several lines ending with {@code end}; returns them without it. */
    List<String> callMulti(String command) throws IOException;

    /** True while the helper process runs and answers. */
    boolean alive();

    @Override
    void close();
}
