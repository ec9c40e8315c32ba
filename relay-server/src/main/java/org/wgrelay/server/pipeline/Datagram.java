package org.wgrelay.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCounted;
import java.net.InetSocketAddress;
import org.wgrelay.server.table.Partner;
import org.wgrelay.server.table.Route;

/**
 * One shaped datagram on its way down the pipeline, from the {@link ShapeFilter} on: the
 * received packet and what the stages learn about it — its WireGuard type, its source's
 * route, which of its partners it goes to, and where if not to that partner's committed endpoint. The stages pass this
 * object itself as the message, so no stage keeps per-packet state anywhere else.
 *
 * <p>One instance per worker, reused for every datagram without allocation: the pipeline is
 * synchronous, so the next datagram enters only after this one has left it. Nothing may keep
 * a reference to it past its {@code channelRead}. {@link #start} clears everything a previous
 * datagram left, so a stage that threw half-way cannot misroute the next one.
 *
 * <p>Ownership: whoever holds the message owns the packet. Releasing the message releases
 * the packet (it delegates {@link ReferenceCounted}, so Netty's tail and the leak checks treat
 * it like the packet); a stage that hands {@link #content()} to an outbound packet has passed
 * the ownership on and neither releases nor forwards the message.
 */
public final class Datagram implements ReferenceCounted {
    private DatagramPacket packet;
    private int type;
    private Route route;
    private Partner partner;
    private InetSocketAddress redirect;
    private InetSocketAddress mirror;

    /** Takes {@code packet} (of WireGuard type {@code type}) as the datagram in flight. */
    Datagram start(DatagramPacket packet, int type) {
        this.packet = packet;
        this.type = type;
        this.route = null;
        this.partner = null;
        this.redirect = null;
        this.mirror = null;
        return this;
    }

    public DatagramPacket packet() {
        return packet;
    }

    public ByteBuf content() {
        return packet.content();
    }

    public InetSocketAddress sender() {
        return packet.sender();
    }

    /** The WireGuard message type (1-4), from the shape filter. */
    public int type() {
        return type;
    }

    /** The registered source's route, from {@link SourceLookup}; null for an unknown source. */
    public Route route() {
        return route;
    }

    void route(Route route) {
        this.route = route;
    }

    /**
     * The partner of the source's route this datagram goes to: the sole partner, or a hub's
     * partner chosen by MAC1 or session index ({@link HubRouter}); null until rule 4 has run.
     */
    public Partner partner() {
        return partner;
    }

    void partner(Partner partner) {
        this.partner = partner;
    }

    /**
     * Sends this datagram to {@code to} instead of the partner's committed endpoint (a
     * committing candidate), or, from an unknown source, to {@code to} at all.
     */
    public void redirect(InetSocketAddress to) {
        this.redirect = to;
    }

    /** Where it goes: the redirect if any, else the partner's endpoint; null when it has none (SPEC E). */
    public InetSocketAddress destination() {
        return redirect != null ? redirect : partner == null ? null : partner.address();
    }

    /** Also sends a copy to {@code to} (SPEC rule 8: a type 2 to the partner's candidate), uncounted. */
    public void mirror(InetSocketAddress to) {
        this.mirror = to;
    }

    /** Where a copy goes too, or null. */
    public InetSocketAddress mirrorTo() {
        return mirror;
    }

    @Override
    public int refCnt() {
        return packet.refCnt();
    }

    @Override
    public Datagram retain() {
        packet.retain();
        return this;
    }

    @Override
    public Datagram retain(int increment) {
        packet.retain(increment);
        return this;
    }

    @Override
    public Datagram touch() {
        packet.touch();
        return this;
    }

    @Override
    public Datagram touch(Object hint) {
        packet.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return packet.release();
    }

    @Override
    public boolean release(int decrement) {
        return packet.release(decrement);
    }

    @Override
    public String toString() {
        return "Datagram(type " + type + " from " + (packet == null ? "-" : packet.sender()) + ", route " + route + ")";
    }
}
