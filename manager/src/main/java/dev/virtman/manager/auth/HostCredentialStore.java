package dev.virtman.manager.auth;

import java.time.Instant;
import java.util.Map;

/**
 * SHA-256 hashes of the host credentials the manager issued ({@link Credentials}): in
 * {@link SqliteCredentialStore} ({@link #FILE}) or beside the manager's state in etcd. Only
 * hashes are stored, so a copy of the store does not let anyone act as a host.
 */
public interface HostCredentialStore extends AutoCloseable {
    String FILE = "credentials.db";

    /** host id -> token hash, oldest issue first. */
    Map<String, String> load();

    /** Issues or replaces (rotates) a host's credential hash; durable before it returns. */
    void put(String hostId, String tokenSha256, Instant issuedAt);

    /** Revokes; no-op for a host without one. */
    void delete(String hostId);

    @Override
    void close();
}
