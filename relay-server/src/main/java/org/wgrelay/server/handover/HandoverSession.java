package org.wgrelay.server.handover;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.unix.FileDescriptor;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One takeover, on the running relay's side: answers {@code hello} with the offer, sends the
 * descriptors on {@code send}, stops serving on {@code running} and answers {@code stopped},
 * then exits on {@code done}. Runs on the handover event loop; stopping runs on a thread of
 * its own because it waits for the workers' queued sends.
 *
 * <p>Until {@code running} the relay serves as if nothing happened: a new relay that breaks
 * off, dies or stalls (30 s) before it costs nothing but its connection. If the connection
 * drops after {@code stopped} without a {@code done}, the new relay died while starting, so
 * this one reads again.
 */
final class HandoverSession extends SimpleChannelInboundHandler<String> {
    private static final Logger LOG = LoggerFactory.getLogger(HandoverSession.class);
    /** From connecting to {@code running}. */
    static final long SETUP_TIMEOUT_MILLIS = 30_000;
    /** From {@code stopped} to {@code done}: the new relay only tells its service manager first. */
    static final long DONE_TIMEOUT_MILLIS = 5_000;
    /** How long the workers' queued sends may take to leave once reading stopped. */
    static final long DRAIN_TIMEOUT_MILLIS = 2_000;

    private enum State {
        HELLO,
        OFFERED,
        SENT,
        STOPPING,
        STOPPED,
        DONE,
        REFUSED
    }

    private final HandoverSource source;
    private final HandoverSlot listener;
    /** Runs the blocking stop off the loop: a thread of its own in production, the caller's in tests. */
    private final Executor stopper;

    private State state = State.HELLO;
    private long newPid;
    private List<HandoverSource.OfferedSocket> sockets;
    private ScheduledFuture<?> deadline;

    HandoverSession(HandoverSource source, HandoverSlot listener) {
        this(source, listener, task -> {
            Thread t = new Thread(task, "wg-relay-handover-stop");
            t.setDaemon(true);
            t.start();
        });
    }

    HandoverSession(HandoverSource source, HandoverSlot listener, Executor stopper) {
        this.source = source;
        this.listener = listener;
        this.stopper = stopper;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!listener.claim()) {
            state = State.REFUSED;
            reply(ctx, HandoverMessage.error("another takeover is under way")).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        deadline = ctx.executor()
                .schedule(
                        () -> {
                            LOG.warn(
                                    "handover: pid={} did not finish the takeover within {} ms; still serving",
                                    newPid,
                                    SETUP_TIMEOUT_MILLIS);
                            ctx.close();
                        },
                        SETUP_TIMEOUT_MILLIS,
                        TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, String line) {
        HandoverMessage m;
        try {
            m = HandoverMessage.parse(line);
            switch (state) {
                case HELLO -> offer(ctx, m.expect(HandoverMessage.HELLO));
                case OFFERED -> send(ctx, m.expect(HandoverMessage.SEND));
                case SENT -> stop(ctx, m.expect(HandoverMessage.RUNNING));
                case STOPPED -> done(ctx, m.expect(HandoverMessage.DONE));
                default -> throw new HandoverException("unexpected " + m.type() + " while " + state);
            }
        } catch (HandoverException e) {
            LOG.warn("handover: {}; still serving", e.getMessage());
            reply(ctx, HandoverMessage.error(e.getMessage())).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void offer(ChannelHandlerContext ctx, HandoverMessage hello) {
        newPid = hello.body().path("pid").asLong(-1);
        sockets = source.sockets();
        HandoverMessage offer = HandoverMessage.of(HandoverMessage.OFFER);
        offer.body().put("pid", ProcessHandle.current().pid());
        ArrayNode roles = offer.body().putArray("sockets");
        for (HandoverSource.OfferedSocket s : sockets) {
            roles.add(s.role().wireName());
        }
        state = State.OFFERED;
        LOG.info("handover: pid={} asks to take over; offering {} sockets", newPid, sockets.size());
        reply(ctx, offer);
    }

    private void send(ChannelHandlerContext ctx, HandoverMessage request) {
        for (HandoverSource.OfferedSocket s : sockets) {
            // Sent with SCM_RIGHTS; the kernel duplicates the descriptor into the new process.
            ctx.write(new FileDescriptor(s.fd()));
        }
        ctx.flush();
        state = State.SENT;
    }

    private void stop(ChannelHandlerContext ctx, HandoverMessage running) {
        state = State.STOPPING;
        deadline.cancel(false);
        stopper.execute(() -> {
            ObjectNode counters;
            try {
                counters = source.stopServing(newPid);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            ctx.executor().execute(() -> stopped(ctx, counters));
        });
    }

    /** On the loop, once this relay stopped reading. */
    private void stopped(ChannelHandlerContext ctx, ObjectNode counters) {
        if (!ctx.channel().isActive()) {
            resume("the new relay pid=" + newPid + " went away before it was told this one stopped");
            return;
        }
        listener.stopListening(); // frees the path for the new relay, which binds it after "done"
        HandoverMessage stopped = HandoverMessage.of(HandoverMessage.STOPPED);
        stopped.body().setAll(counters);
        state = State.STOPPED;
        reply(ctx, stopped);
        deadline = ctx.executor()
                .schedule(
                        () -> {
                            LOG.warn("handover: pid={} did not confirm within {} ms", newPid, DONE_TIMEOUT_MILLIS);
                            ctx.close();
                        },
                        DONE_TIMEOUT_MILLIS,
                        TimeUnit.MILLISECONDS);
    }

    private void done(ChannelHandlerContext ctx, HandoverMessage done) {
        state = State.DONE;
        deadline.cancel(false);
        ctx.close();
        source.handedOver(newPid);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (deadline != null) {
            deadline.cancel(false);
        }
        switch (state) {
            case HELLO, OFFERED, SENT -> {
                LOG.warn("handover: the takeover by pid={} broke off before it ran; still serving", newPid);
                listener.release();
            }
            case STOPPING -> {
                // stopped() sees the closed channel and resumes
            }
            case STOPPED -> resume("the new relay pid=" + newPid + " went away without confirming");
            default -> {}
        }
    }

    private void resume(String why) {
        LOG.warn("handover: {}; serving again", why);
        source.resumeServing();
        listener.stopListening(); // if it still listens (the new relay left before "stopped")
        listener.relisten();
        listener.release();
        state = State.HELLO;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("handover: connection failed: {}", cause.toString());
        ctx.close();
    }

    private static io.netty.channel.ChannelFuture reply(ChannelHandlerContext ctx, HandoverMessage m) {
        return ctx.writeAndFlush(ByteBufUtil.writeUtf8(ctx.alloc(), m.line()));
    }
}
