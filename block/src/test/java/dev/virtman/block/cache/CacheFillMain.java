package dev.virtman.block.cache;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Child process for {@link ChunkCacheCrashTest}: fills a cache from a slowed-down parent, in
 * random order, forever, and prints {@code READY} once some chunks are durable, then
 * {@code READ n} every {@value #PROGRESS_EVERY} reads, so the test kills it at a point it chose
 * by progress, mid-fill, not after a guessed time. Args: IMAGE MANIFEST CACHE_DIR.
 */
public final class CacheFillMain {
    private static final long FETCH_DELAY_MICROS = 500;
    private static final int CHUNKS_BEFORE_READY = 32;
    static final int PROGRESS_EVERY = 64;

    private CacheFillMain() {
    }

    public static void main(final String[] args) throws Exception {
        ChunkManifest manifest = ManifestFormat.read(Path.of(args[1]));
        BlockDevice file = FileBlockDevice.open(Path.of(args[0]), false);
        BlockDevice slow = new BlockDevice() {
            @Override
            public long size() {
                return file.size();
            }

            @Override
            public void read(final long offset, final ByteBuffer dst) throws IOException {
                try {
                    Thread.sleep(0, (int) (FETCH_DELAY_MICROS * 1000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                file.read(offset, dst);
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ChunkFetcher fetcher = new ChunkFetcher(manifest, new ParentSet(
                List.of(new ParentSet.Named("source", slow)), FetchPolicy.DEFAULT.parentCooldown(), registry),
                FetchPolicy.DEFAULT);
        ChunkCache cache = ChunkCache.open(Path.of(args[2]), manifest, fetcher, ChunkCache.Options.defaults(registry));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < manifest.chunkCount(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(1));
        ByteBuffer buf = ByteBuffer.allocate(manifest.chunkSize());
        int n = 0;
        while (true) {
            for (int index : order) {
                buf.clear().limit(manifest.chunkLength(index));
                cache.read(manifest.chunkOffset(index), buf);
                if (++n == CHUNKS_BEFORE_READY) {
                    cache.flush();
                    System.out.println("READY");
                    System.out.flush();
                } else if (n % PROGRESS_EVERY == 0) {
                    System.out.println("READ " + n);
                    System.out.flush();
                }
            }
        }
    }
}
