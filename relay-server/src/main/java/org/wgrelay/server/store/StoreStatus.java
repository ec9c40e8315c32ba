package org.wgrelay.server.store;

/**
 * What {@code wg show} reports of the store (SPEC C).
 *
 * @param kind {@code file} or {@code etcd}
 * @param revision the etcd revision applied on this relay, or null for the file store
 * @param connected whether etcd answers now, or null for the file store
 * @param synced true once the roster was read whole from the store (always for the file)
 * @param syncs full reads of the store since start (etcd: the first, and each after a loss)
 * @param losses times the connection to the store was lost since start
 */
public record StoreStatus(String kind, Long revision, Boolean connected, boolean synced, long syncs, long losses) {}
