package dev.virtman.block.cache;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The host's cache size limit. Holds the bytes each image's cache uses (present chunks x chunk
 * size) and, when a chunk does not fit, evicts whole images that no VM or child is using,
 * least recently used first. An image in use is never evicted; when nothing can be evicted the
 * chunk is served but not cached ({@link SpaceBudget#tryReserve} says no).
 *
 * <p>Stores nothing itself: usage is rebuilt from the bitmaps when the {@link CacheDirectory}
 * is scanned, and last use from each image's {@code last-use} file.
 */
public final class CacheSpaceManager {
    private static final Logger LOG = LoggerFactory.getLogger(CacheSpaceManager.class);

    /** What the manager needs from the directory: which images exist and how to delete one. */
    interface Evictor {
        /** Deletes an image's cache; only called for images not in use. */
        void evict(String imageId) throws IOException;
    }

    private static final class Entry {
        long bytes;
        long lastUseMillis;
        int users;

        Entry(final long bytes, final long lastUseMillis) {
            this.bytes = bytes;
            this.lastUseMillis = lastUseMillis;
        }
    }

    private final long limitBytes;
    private final Evictor evictor;
    private final Map<String, Entry> images = new HashMap<>();
    private long usedBytes;
    private long evictions;

    CacheSpaceManager(final long limitBytes, final Evictor evictor) {
        if (limitBytes <= 0) {
            throw new IllegalArgumentException("cache limit must be positive");
        }
        this.limitBytes = limitBytes;
        this.evictor = evictor;
    }

    public long limitBytes() {
        return limitBytes;
    }

    public synchronized long usedBytes() {
        return usedBytes;
    }

    public synchronized long evictions() {
        return evictions;
    }

    /** Records (or corrects) the bytes an image's cache holds, keeping its users. */
    synchronized void add(final String imageId, final long bytes, final long lastUseMillis) {
        Entry e = images.get(imageId);
        if (e == null) {
            images.put(imageId, new Entry(bytes, lastUseMillis));
        } else {
            usedBytes -= e.bytes;
            e.bytes = bytes;
            e.lastUseMillis = Math.max(e.lastUseMillis, lastUseMillis);
        }
        usedBytes += bytes;
    }

    synchronized void acquire(final String imageId, final long nowMillis) {
        Entry e = images.computeIfAbsent(imageId, id -> new Entry(0, nowMillis));
        e.users++;
        e.lastUseMillis = nowMillis;
    }

    synchronized void release(final String imageId, final long nowMillis) {
        Entry e = images.get(imageId);
        if (e != null) {
            e.users = Math.max(0, e.users - 1);
            e.lastUseMillis = nowMillis;
        }
    }

    synchronized boolean inUse(final String imageId) {
        Entry e = images.get(imageId);
        return e != null && e.users > 0;
    }

    synchronized long lastUseMillis(final String imageId) {
        Entry e = images.get(imageId);
        return e == null ? 0 : e.lastUseMillis;
    }

    /** The budget an image's {@link ChunkCache} draws from. */
    SpaceBudget budgetFor(final String imageId) {
        return new SpaceBudget() {
            @Override
            public boolean tryReserve(final long bytes) {
                return reserve(imageId, bytes);
            }

            @Override
            public void release(final long bytes) {
                unreserve(imageId, bytes);
            }
        };
    }

    private synchronized boolean reserve(final String imageId, final long bytes) {
        if (usedBytes + bytes > limitBytes) {
            evictFor(imageId, usedBytes + bytes - limitBytes);
        }
        if (usedBytes + bytes > limitBytes) {
            return false;
        }
        usedBytes += bytes;
        images.computeIfAbsent(imageId, id -> new Entry(0, System.currentTimeMillis())).bytes += bytes;
        return true;
    }

    private synchronized void unreserve(final String imageId, final long bytes) {
        Entry e = images.get(imageId);
        if (e != null) {
            e.bytes -= bytes;
            usedBytes -= bytes;
        }
    }

    /** Evicts idle images, least recently used first, until {@code needed} bytes are free or none is left. */
    private void evictFor(final String requester, final long needed) {
        List<Map.Entry<String, Entry>> idle = new ArrayList<>();
        for (Map.Entry<String, Entry> e : images.entrySet()) {
            if (e.getValue().users == 0 && !e.getKey().equals(requester)) {
                idle.add(e);
            }
        }
        idle.sort(Comparator.comparingLong(e -> e.getValue().lastUseMillis));
        long freed = 0;
        for (Map.Entry<String, Entry> e : idle) {
            if (freed >= needed) {
                break;
            }
            try {
                evictor.evict(e.getKey());
            } catch (IOException ex) {
                LOG.warn("could not evict image {}: {}", e.getKey(), ex.toString());
                continue;
            }
            freed += e.getValue().bytes;
            usedBytes -= e.getValue().bytes;
            images.remove(e.getKey());
            evictions++;
            LOG.info("evicted image {} ({} bytes, idle since {})", e.getKey(), e.getValue().bytes,
                    java.time.Instant.ofEpochMilli(e.getValue().lastUseMillis));
        }
    }
}
