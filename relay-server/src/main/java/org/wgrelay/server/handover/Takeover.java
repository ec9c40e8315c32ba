package org.wgrelay.server.handover;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.Channel;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A takeover in progress, on the new relay's side: it holds the received descriptors until
 * the relay's workers and listeners own them ({@link #claimAll}), then tells the old relay
 * that it runs ({@link #confirmRunning}) and lets it exit ({@link #finish}). {@link #abort}
 * breaks off at any point before {@code running}, closing what was not claimed; the old relay
 * keeps serving.
 */
public final class Takeover implements AutoCloseable {
    private final Channel channel;
    private final BlockingQueue<Object> inbox;
    private final Duration timeout;
    private long oldPid = -1;
    private final List<SocketRole> roles = new ArrayList<>();
    private final List<FileDescriptor> fds = new ArrayList<>();
    private boolean claimed;

    Takeover(Channel channel, BlockingQueue<Object> inbox, Duration timeout) {
        this.channel = channel;
        this.inbox = inbox;
        this.timeout = timeout;
    }

    void received(long oldPid, List<SocketRole> roles, List<FileDescriptor> fds) {
        this.oldPid = oldPid;
        this.roles.addAll(roles);
        this.fds.addAll(fds);
    }

    public long oldPid() {
        return oldPid;
    }

    /** Every descriptor received. */
    public int socketCount() {
        return fds.size();
    }

    /** The descriptors of {@code role}, in the old relay's order (the workers' order for UDP). */
    public List<Integer> fds(SocketRole role) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < roles.size(); i++) {
            if (roles.get(i) == role) {
                out.add(fds.get(i).intValue());
            }
        }
        return out;
    }

    /** The one descriptor of {@code role}, or -1 when none was offered. */
    public int fd(SocketRole role) {
        List<Integer> all = fds(role);
        return all.isEmpty() ? -1 : all.get(0);
    }

    /** From now on the relay's channels own (and close) the descriptors; {@link #abort} leaves them. */
    public void claimAll() {
        claimed = true;
    }

    /**
     * Tells the old relay that this one reads the sockets and waits for it to stop; returns its
     * final counters ({@link CounterTransfer}). Throws when it does not answer in time: it may
     * then still be serving alongside this relay, which is harmless (both forward).
     */
    public ObjectNode confirmRunning() {
        send(HandoverMessage.of(HandoverMessage.RUNNING));
        return receive(timeout).expect(HandoverMessage.STOPPED).body();
    }

    /** Lets the old relay exit; ends the exchange. */
    public void finish() {
        send(HandoverMessage.of(HandoverMessage.DONE));
        close();
    }

    /** Breaks off: tells the old relay why (if {@code reason} is not null), closes unclaimed descriptors. */
    public void abort(String reason) {
        if (reason != null && channel.isActive()) {
            send(HandoverMessage.error(reason));
        }
        close();
        if (!claimed) {
            for (FileDescriptor fd : fds) {
                try {
                    fd.close();
                } catch (IOException e) {
                    // already closed
                }
            }
        }
    }

    void send(HandoverMessage m) {
        if (!channel.isActive()) {
            throw new HandoverException("the other relay closed the handover connection");
        }
        HandoverClient.write(channel, m);
    }

    HandoverMessage receive(Duration within) {
        Object o = next(within);
        if (o instanceof String line) {
            return HandoverMessage.parse(line);
        }
        throw new HandoverException("expected a message, got " + o.getClass().getSimpleName());
    }

    FileDescriptor receiveDescriptor(Duration within) {
        Object o = next(within);
        if (o instanceof FileDescriptor fd) {
            return fd;
        }
        throw new HandoverException("expected a socket, got " + o.getClass().getSimpleName());
    }

    private Object next(Duration within) {
        Object o;
        try {
            o = inbox.poll(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HandoverException("interrupted");
        }
        if (o == null) {
            throw new HandoverException("no answer within " + within.toMillis() + " ms");
        }
        if (o == HandoverClient.CLOSED) {
            throw new HandoverException("the other relay closed the handover connection");
        }
        if (o instanceof HandoverException e) {
            throw e;
        }
        return o;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
