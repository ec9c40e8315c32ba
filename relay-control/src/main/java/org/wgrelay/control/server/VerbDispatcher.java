package org.wgrelay.control.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.control.protocol.ControlException;
import org.wgrelay.control.protocol.ControlJson;
import org.wgrelay.control.protocol.ControlRequest;
import org.wgrelay.control.protocol.ErrorCodes;
import org.wgrelay.control.verb.BuiltinVerbs;
import org.wgrelay.control.verb.Role;
import org.wgrelay.control.verb.VerbRegistry;

/**
 * Turns one request line into its response line, off the event loop, in two lanes: the
 * reader threads parse every request, check its role, token and arguments and run read
 * verbs; operator verbs go on to the one writer thread, so mutations happen one at a time
 * across all connections. A slow verb holds its own lane's thread only: reads do not wait
 * behind a mutation, and one slow read leaves the other reader threads serving.
 *
 * <p>Each connection has at most one request here at a time ({@link ControlConnection}),
 * so the lanes hold at most one task per open connection; their queues are bounded at
 * twice that for connections closed with a request still queued, and a connection whose
 * request finds them full is closed.
 */
final class VerbDispatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VerbDispatcher.class);

    /** A response line; {@code subscribe} when the request turned the connection into an event stream. */
    record Answer(String line, boolean subscribe) {}

    private final VerbRegistry registry;
    private final byte[] token;
    private final ThreadPoolExecutor readers;
    private final ThreadPoolExecutor writer;

    VerbDispatcher(VerbRegistry registry, String token, ControlLimits limits) {
        this.registry = registry;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        int queue = 2 * limits.maxConnections();
        this.readers = lane(limits.readThreads(), queue, "wg-relay-control-read");
        this.writer = lane(1, queue, "wg-relay-control");
    }

    private static ThreadPoolExecutor lane(int threads, int queue, String name) {
        return new ThreadPoolExecutor(
                threads,
                threads,
                0,
                TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queue),
                new DefaultThreadFactory(name, true));
    }

    /**
     * Answers {@code line} (null: not valid UTF-8) on the lanes and hands the answer to
     * {@code done} on a lane thread. Throws {@link RejectedExecutionException} when the
     * lanes are full or shut down.
     */
    void dispatch(String line, Consumer<Answer> done) {
        readers.execute(() -> {
            if (line == null) {
                done.accept(error(NullNode.getInstance(), ErrorCodes.BAD_REQUEST, "the line is not valid UTF-8"));
                return;
            }
            ControlRequest request;
            try {
                request = ControlJson.parseRequest(line);
            } catch (ControlException e) {
                done.accept(error(ControlJson.idOf(line), e.code(), e.getMessage()));
                return;
            }
            VerbRegistry.Binding binding = registry.find(request.verb());
            if (binding != null && binding.spec().role() == Role.OPERATOR) {
                run(writer, request, binding, done);
            } else {
                done.accept(answer(request, binding));
            }
        });
    }

    private void run(Executor lane, ControlRequest request, VerbRegistry.Binding binding, Consumer<Answer> done) {
        try {
            lane.execute(() -> done.accept(answer(request, binding)));
        } catch (RejectedExecutionException e) {
            done.accept(error(request.id(), ErrorCodes.INTERNAL, "the relay is too busy to take the request now"));
        }
    }

    private Answer answer(ControlRequest request, VerbRegistry.Binding binding) {
        JsonNode id = request.id();
        try {
            if (binding == null) {
                throw new ControlException(
                        ErrorCodes.UNKNOWN_VERB, "no verb '" + printable(request.verb()) + "'; 'help' lists them");
            }
            if (binding.spec().role() == Role.OPERATOR && !authorised(request.token())) {
                throw new ControlException(ErrorCodes.FORBIDDEN, "'" + request.verb() + "' needs the operator token");
            }
            List<String> args = VerbRegistry.checkArgs(binding.spec(), request.args());
            if (binding.spec().verb().equals(BuiltinVerbs.SUBSCRIBE.verb())) {
                return new Answer(ControlJson.okLine(id, Map.of("subscribed", true)), true);
            }
            return new Answer(ControlJson.okLine(id, binding.handler().handle(args)), false);
        } catch (ControlException e) {
            return error(id, e.code(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("control verb '{}' failed", request.verb(), e);
            return error(id, ErrorCodes.INTERNAL, "the relay failed to carry out the request: " + e);
        }
    }

    private static Answer error(JsonNode id, String code, String message) {
        return new Answer(ControlJson.errorLine(id, code, message), false);
    }

    /** Constant-time check of a request's token; true when no token is configured. */
    private boolean authorised(String presented) {
        if (token == null) {
            return true;
        }
        byte[] given = presented == null ? new byte[0] : presented.getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(token, given);
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    @Override
    public void close() {
        readers.shutdown();
        writer.shutdown();
        try {
            readers.awaitTermination(5, TimeUnit.SECONDS);
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
