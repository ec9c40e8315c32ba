package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.wgrelay.server.roster.PeerEntry;
import org.wgrelay.server.table.Route;

/**
 * Pipeline stage 6 and the egress half of 7, present only with
 * {@code --trace-forward-hashes}: logs SPEC's {@code trace ingress} line for each
 * datagram about to be forwarded, and the {@code trace egress} line for the bytes
 * actually handed to the socket, so an operator can prove a frame left unchanged.
 *
 * <p>Debugging aid, not for production: it hashes and logs every packet. Without the
 * flag the handler is not in the pipeline and the forward path pays nothing.
 */
public final class TraceHasher extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger("org.wgrelay.trace");
    private static final int HASH_HEX_CHARS = 32;
    private static final int PUBKEY_CHARS = 12;

    private final MessageDigest sha256;
    /** Route, type and destination of the datagram in flight, for its egress line. */
    private Route egressRoute;

    private int egressType;
    private InetSocketAddress egressTo;
    private String egressPartner;

    public TraceHasher() {
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Datagram datagram = (Datagram) msg;
        Route route = datagram.route();
        ByteBuf content = datagram.content();
        LOG.info(
                "trace ingress sha256={} len={} type={} src_peer={} src_pubkey={} dst_peer={} dst_pubkey={}",
                hash(content),
                content.readableBytes(),
                datagram.type(),
                route.peer().name(),
                pubkeyPrefix(route.peer()),
                datagram.partner().peer().name(),
                pubkeyPrefix(datagram.partner().peer()));
        egressRoute = route;
        egressPartner = datagram.partner().peer().name();
        egressType = datagram.type();
        egressTo = datagram.destination(); // final here: roaming's watch runs before this stage
        try {
            ctx.fireChannelRead(datagram);
        } finally {
            egressRoute = null;
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        // Only the forwarder, after this stage, writes through here while a datagram is in
        // flight; the forwarded datagram is the one to its destination, and a mirror copy
        // to a candidate (rule 8) gets no line (SPEC).
        if (egressRoute != null
                && msg instanceof DatagramPacket p
                && p.recipient().equals(egressTo)) {
            ByteBuf content = p.content();
            LOG.info(
                    "trace egress sha256={} len={} type={} src_peer={} dst_peer={}",
                    hash(content),
                    content.readableBytes(),
                    egressType,
                    egressRoute.peer().name(),
                    egressPartner);
        }
        ctx.write(msg, promise);
    }

    private String hash(ByteBuf content) {
        sha256.reset();
        sha256.update(content.nioBuffer(content.readerIndex(), content.readableBytes()));
        byte[] digest = sha256.digest();
        StringBuilder hex = new StringBuilder(HASH_HEX_CHARS);
        for (int i = 0; i < HASH_HEX_CHARS / 2; i++) {
            hex.append(Character.forDigit((digest[i] >> 4) & 0xF, 16)).append(Character.forDigit(digest[i] & 0xF, 16));
        }
        return hex.toString();
    }

    private static String pubkeyPrefix(PeerEntry peer) {
        String key = peer.pubkey();
        return key == null ? "[--]" : key.substring(0, Math.min(PUBKEY_CHARS, key.length()));
    }
}
