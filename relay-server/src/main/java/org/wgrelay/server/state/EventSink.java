package org.wgrelay.server.state;

/** Where state events go (the control channel's subscribers). Must not block. */
@FunctionalInterface
public interface EventSink {
    EventSink NONE = (event, data) -> {};

    /** @param event the full event name, e.g. {@code state.wg.peer_added} */
    void publish(String event, Object data);
}
