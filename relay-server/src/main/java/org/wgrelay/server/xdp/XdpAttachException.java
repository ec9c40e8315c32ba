package org.wgrelay.server.xdp;

/** The XDP program could not be attached; {@link #line()} is SPEC's {@code xdp_attach_failed} line. */
public final class XdpAttachException extends Exception {
    private final String line;

    public XdpAttachException(String line) {
        super(line, null, false, false);
        this.line = line;
    }

    public String line() {
        return line;
    }
}
