package dev.virtman.agent;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FaultyBlockDevice;
import dev.virtman.block.FaultyBlockDevice.Fault;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.cache.ChunkFetcher;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.ParentSet;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The manager moves an agent to new parents while a chunk fetch is under way on the old ones. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UpstreamSwitchTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 8;
    private static final FetchPolicy ONE_SHORT_ROUND = new FetchPolicy(Duration.ofMillis(300), 1,
            Duration.ofMillis(10), Duration.ofMillis(10), Duration.ofMillis(10), 4);

    @TempDir
    Path dir;

    @Test
    void aFetchThatFailsOnReplacedParentsIsRetriedOnTheNewOnes() throws Exception {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 3);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FileBlockDevice source = FileBlockDevice.open(file, false)) {
            FaultyBlockDevice stalled = new FaultyBlockDevice(source, Fault.STALL);
            ChunkFetcher old = new ChunkFetcher(manifest,
                    new ParentSet(List.of(new ParentSet.Named("dead-parent", stalled)), Duration.ZERO, registry),
                    ONE_SHORT_ROUND);
            ChunkFetcher next = new ChunkFetcher(manifest,
                    new ParentSet(List.of(new ParentSet.Named("grandparent", source)), Duration.ZERO, registry),
                    ONE_SHORT_ROUND);
            try {
                UpstreamSwitch upstream = new UpstreamSwitch(old);
                Thread mover = Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                    upstream.swap(next);
                });
                ByteBuffer got = upstream.fetch(5);
                mover.join();
                byte[] want = Arrays.copyOfRange(Files.readAllBytes(file), 5 * CHUNK, 6 * CHUNK);
                byte[] bytes = new byte[got.remaining()];
                got.duplicate().get(bytes);
                assertThat(bytes).isEqualTo(want);
                // Without a swap, the same failure reaches the caller.
                assertThatThrownBy(() -> new UpstreamSwitch(old).fetch(6)).isInstanceOf(java.io.IOException.class);
            } finally {
                stalled.release();
                old.close();
                next.close();
            }
        }
    }

    @Test
    void aRunGoesUpstreamAsOneReadAndIsRetriedOnNewParentsToo() throws Exception {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 4);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        byte[] image = Files.readAllBytes(file);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FileBlockDevice source = FileBlockDevice.open(file, false)) {
            CountingBlockDevice counted = new CountingBlockDevice(source);
            FaultyBlockDevice failing = new FaultyBlockDevice(source, Fault.ERROR);
            ChunkFetcher old = new ChunkFetcher(manifest,
                    new ParentSet(List.of(new ParentSet.Named("dead-parent", failing)), Duration.ZERO, registry),
                    ONE_SHORT_ROUND);
            ChunkFetcher next = new ChunkFetcher(manifest,
                    new ParentSet(List.of(new ParentSet.Named("grandparent", counted)), Duration.ZERO, registry),
                    ONE_SHORT_ROUND);
            try {
                UpstreamSwitch upstream = new UpstreamSwitch(next);
                List<ByteBuffer> run = upstream.fetchRun(2, 4);
                for (int i = 0; i < 4; i++) {
                    byte[] bytes = new byte[run.get(i).remaining()];
                    run.get(i).duplicate().get(bytes);
                    assertThat(bytes).isEqualTo(Arrays.copyOfRange(image, (2 + i) * CHUNK, (3 + i) * CHUNK));
                }
                assertThat(counted.reads()).as("four chunks, one upstream read").isEqualTo(1);
                assertThatThrownBy(() -> new UpstreamSwitch(old).fetchRun(0, 2)).isInstanceOf(java.io.IOException.class);
            } finally {
                old.close();
                next.close();
            }
        }
    }
}
