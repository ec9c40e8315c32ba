package org.wgrelay.server.store;

/**
 * What {@code wg show} reports of the store (SPEC C).
 *
 * @param kind {@code file} or {@code etcd}
 * @param revision the etcd revision applied on this relay, or null for the file store
 * @param connected whether etcd answers now, or null for the file store
 * @param synced true once the roster was read whole from the store (always for the file)
 */
public record StoreStatus(String kind, Long revision, Boolean connected, boolean synced) {}
