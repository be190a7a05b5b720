package dev.virtman.manager.volume;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The manager's volumes (with their CHAP secrets): {@link SqliteVolumeStore} in {@link #FILE}
 * next to {@code manager.db}, or the etcd store beside the manager's other state. Every method is
 * one atomic write or one consistent read; failures throw {@code StoreException}.
 */
public interface VolumeStore extends AutoCloseable {
    String FILE = "volumes.db";

    /** Stores a new volume; fails if its id exists. */
    void insert(VolumeRecord volume);

    /** Changes host and state of a volume. */
    void update(VolumeRecord volume);

    void delete(String id);

    Optional<VolumeRecord> find(String id);

    /** Every volume, oldest first (creation time, then id). */
    List<VolumeRecord> all();

    @Override
    void close();

    static VolumeStore open(final Path file) {
        return SqliteVolumeStore.open(file);
    }
}
