package dev.virtman.block.cache;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A host's cache root: one sub-directory per image, named by its image id (64 hex digits),
 * holding that image's {@link ChunkCache} files plus a {@code last-use} file whose modification
 * time records when a VM or child last used the image (so LRU order survives restarts).
 *
 * <p>Opening an image hands out a {@link Lease}; every lease of one image shares one
 * {@link ChunkCache}, closed with the last lease. Images with no lease are idle and may be
 * evicted by the {@link CacheSpaceManager} when another image needs space. At start-up the root is
 * scanned: a sub-directory whose manifest is missing or unreadable cannot be trusted and is
 * removed; the others' usage is read from their bitmaps.
 */
public final class CacheDirectory implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(CacheDirectory.class);
    private static final Pattern IMAGE_ID = Pattern.compile("[0-9a-f]{64}");
    static final String LAST_USE_FILE = "last-use";

    private final Path root;
    private final CacheSpaceManager space;
    private final Map<String, Shared> open = new HashMap<>();

    private static final class Shared {
        final ChunkCache cache;
        int leases;

        Shared(final ChunkCache cache) {
            this.cache = cache;
        }
    }

    private CacheDirectory(final Path root, final long limitBytes) {
        this.root = root;
        this.space = new CacheSpaceManager(limitBytes, this::delete);
    }

    /** Opens (creating if needed) the cache root with a host-wide limit, and scans what it holds. */
    public static CacheDirectory open(final Path root, final long limitBytes) throws IOException {
        PrivateFiles.createDirectories(root);
        CacheDirectory dir = new CacheDirectory(root, limitBytes);
        dir.scan();
        return dir;
    }

    private void scan() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (!Files.isDirectory(p) || !IMAGE_ID.matcher(name).matches()) {
                    continue;
                }
                PrivateFiles.secureTree(p); // a cache an older release left 0755/0644
                ChunkManifest m;
                try {
                    m = ManifestFormat.read(p.resolve(ChunkCache.MANIFEST_FILE));
                } catch (IOException e) {
                    LOG.warn("cache {}: unreadable manifest, removing it ({})", p, e.getMessage());
                    delete(name);
                    continue;
                }
                if (!m.imageIdHex().equals(name)) {
                    LOG.warn("cache {}: holds image {}, removing it", p, m.imageIdHex());
                    delete(name);
                    continue;
                }
                long bytes = (long) PresenceBitmap.countPresent(p.resolve(ChunkCache.PRESENT_FILE), m) * m.chunkSize();
                space.add(name, bytes, lastUse(p));
            }
        }
    }

    private static long lastUse(final Path imageDir) throws IOException {
        Path marker = imageDir.resolve(LAST_USE_FILE);
        Path any = Files.exists(marker) ? marker : imageDir;
        return Files.getLastModifiedTime(any).toMillis();
    }

    public Path root() {
        return root;
    }

    public CacheSpaceManager space() {
        return space;
    }

    /** Image ids held in the root, in use or not. */
    public List<String> images() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> IMAGE_ID.matcher(n).matches()).sorted().toList();
        }
    }

    /**
     * Opens the cache for {@code manifest}, or shares the one already open (then {@code source} and
     * {@code options} of the first lease stay in force). The space budget in {@code options} is
     * replaced by this directory's.
     */
    public synchronized Lease open(final ChunkManifest manifest, final VerifiedChunkSource source,
                                   final ChunkCache.Options options) throws IOException {
        String id = manifest.imageIdHex();
        long now = System.currentTimeMillis();
        space.acquire(id, now);
        Shared shared = open.get(id);
        if (shared == null) {
            try {
                Path dir = root.resolve(id);
                ChunkCache cache = ChunkCache.open(dir, manifest, source, options.withSpaceBudget(space.budgetFor(id)));
                touch(dir, now);
                shared = new Shared(cache);
                open.put(id, shared);
                space.add(id, cache.cachedBytes(), now);
            } catch (IOException | RuntimeException e) {
                space.release(id, now);
                throw e;
            }
        }
        shared.leases++;
        return new Lease(id, shared);
    }

    /** One user's hold on an open image cache; closing the last lease closes the cache. */
    public final class Lease implements Closeable {
        private final String imageId;
        private final Shared shared;
        private boolean closed;

        private Lease(final String imageId, final Shared shared) {
            this.imageId = imageId;
            this.shared = shared;
        }

        public ChunkCache cache() {
            return shared.cache;
        }

        @Override
        public void close() throws IOException {
            synchronized (CacheDirectory.this) {
                if (closed) {
                    return;
                }
                closed = true;
                long now = System.currentTimeMillis();
                if (--shared.leases == 0) {
                    open.remove(imageId);
                    try {
                        shared.cache.close();
                    } finally {
                        touch(root.resolve(imageId), now);
                        space.release(imageId, now);
                    }
                } else {
                    space.release(imageId, now);
                }
            }
        }
    }

    private static void touch(final Path imageDir, final long nowMillis) throws IOException {
        Path marker = imageDir.resolve(LAST_USE_FILE);
        if (!Files.exists(marker)) {
            PrivateFiles.createFile(marker);
        }
        Files.setLastModifiedTime(marker, FileTime.fromMillis(nowMillis));
    }

    /** Removes an image's cache directory; the space manager only asks for idle images. */
    private void delete(final String imageId) throws IOException {
        Path dir = root.resolve(imageId);
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    /** Closes every open cache, whatever leases remain. */
    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (Shared s : open.values()) {
            try {
                s.cache.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
