package dev.virtman.block.cache;

import dev.virtman.block.manifest.ChunkManifest;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of one {@link ChunkCache} and the Micrometer meters that publish them (tagged
 * with the image's short id), removed again when the cache closes.
 */
final class CacheMeters {

    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder fetches = new LongAdder();
    final LongAdder bytesServed = new LongAdder();
    final LongAdder repairs = new LongAdder();
    final LongAdder prefetches = new LongAdder();
    final LongAdder prefetchesDropped = new LongAdder();
    /** Chunks fetched but not kept because the space budget had no room (a cache too small). */
    final LongAdder fetchedNotKept = new LongAdder();
    /** Chunks in-order prefetches have not yet handed to the prefetch threads (or skipped). */
    final AtomicLong prefetchBacklog = new AtomicLong();

    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();

    CacheMeters(final MeterRegistry registry) {
        this.registry = registry;
    }

    void register(final String shortId, final PresenceBitmap present, final ChunkManifest manifest,
                  final ChunkLoader loader) {
        MeterRegistry r = registry;
        Tags tags = Tags.of("image", shortId);
        meters.add(Gauge.builder("virtman.cache.chunks.present", present, PresenceBitmap::presentCount)
                .description("chunks held in the cache file").tags(tags).register(r));
        meters.add(Gauge.builder("virtman.cache.chunks", manifest, ChunkManifest::chunkCount)
                .description("chunks in the image").tags(tags).register(r));
        meters.add(counter(r, "virtman.cache.hits", hits, "chunk reads served from the cache file", tags));
        meters.add(counter(r, "virtman.cache.misses", misses, "chunk reads that waited for a load", tags));
        meters.add(counter(r, "virtman.cache.fetches", fetches, "chunks fetched from upstream", tags));
        meters.add(FunctionCounter.builder("virtman.cache.served", bytesServed, LongAdder::sum)
                .baseUnit("bytes").description("bytes returned to readers").tags(tags).register(r));
        meters.add(counter(r, "virtman.cache.repairs", repairs, "cached chunks that failed verification", tags));
        meters.add(counter(r, "virtman.cache.prefetches", prefetches, "prefetch requests accepted", tags));
        meters.add(counter(r, "virtman.cache.prefetches.dropped", prefetchesDropped,
                "prefetch requests dropped because the prefetch queue was full", tags));
        meters.add(counter(r, "virtman.cache.fetched.not.kept", fetchedNotKept,
                "chunks fetched but not kept: the cache is full at its limit (too small for the working set)", tags));
        meters.add(Gauge.builder("virtman.cache.full", loader, l -> l.isFull() ? 1 : 0)
                .description("1 while the cache is full at its limit and fetched chunks are not kept").tags(tags).register(r));
        meters.add(Gauge.builder("virtman.cache.prefetch.backlog", prefetchBacklog, AtomicLong::get)
                .description("chunks in-order prefetches (boot profiles) have yet to queue").tags(tags).register(r));
    }

    void remove() {
        for (Meter m : meters) {
            registry.remove(m);
        }
    }

    private static Meter counter(final MeterRegistry r, final String name, final LongAdder adder,
                                 final String description, final Tags tags) {
        return FunctionCounter.builder(name, adder, LongAdder::sum).description(description).tags(tags).register(r);
    }
}
