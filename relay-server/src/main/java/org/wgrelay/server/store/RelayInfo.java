package org.wgrelay.server.store;

/**
 * One live relay of a fleet, as {@code relays/<relay-id>} holds it (SPEC C).
 *
 * @param udp the relay's UDP address, {@code ip:port}
 * @param started when the relay started, ISO-8601 UTC
 */
public record RelayInfo(String id, String udp, String version, String started) {}
