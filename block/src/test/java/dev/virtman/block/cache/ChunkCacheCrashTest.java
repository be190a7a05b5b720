package dev.virtman.block.cache;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import dev.virtman.block.manifest.ManifestFormat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kills a filling cache with SIGKILL (kill -9) and checks the restart: the files validate, every
 * chunk marked present holds the right data (none needs repair) and is not fetched again.
 * A process kill keeps the page cache, so this proves the process-crash ordering, not power loss.
 */
class ChunkCacheCrashTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 2048;

    @TempDir
    Path dir;

    @Test
    void killDashNineMidFillLeavesAValidCache() throws Exception {
        Path imageFile = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 11);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 2, ManifestBuilder.ProgressListener.NONE).build(imageFile);
        Path manifestFile = dir.resolve("image.manifest");
        ManifestFormat.write(manifest, manifestFile);
        Path cacheDir = dir.resolve("cache");

        for (int round = 0; round < 2; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), CacheFillMain.class.getName(),
                    imageFile.toString(), manifestFile.toString(), cacheDir.toString())
                    .redirectError(dir.resolve("child-" + round + ".err").toFile())
                    .start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                // Bounded: a child that never gets going fails the test instead of hanging it.
                String first = java.util.concurrent.CompletableFuture.supplyAsync(() -> readLine(out))
                        .get(120, TimeUnit.SECONDS);
                assertThat(first).as("child output, see child-%d.err", round).isEqualTo("READY");
                // Killed while it reads on: after a few more progress lines, later in the second round.
                String killAt = "READ " + CacheFillMain.PROGRESS_EVERY * (2 + round);
                String line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    String l;
                    do {
                        l = readLine(out);
                    } while (l != null && !l.equals(killAt) && !l.startsWith("java."));
                    return l;
                }).get(120, TimeUnit.SECONDS);
                assertThat(line).as("child output, see child-%d.err", round).isEqualTo(killAt);
                child.destroyForcibly(); // SIGKILL on Linux
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                child.destroyForcibly();
            }
            assertThat(child.exitValue()).as("killed by signal 9").isEqualTo(128 + 9);
        }

        byte[] image = Files.readAllBytes(imageFile);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FileBlockDevice source = FileBlockDevice.open(imageFile, false)) {
            CountingBlockDevice upstream = new CountingBlockDevice(source);
            try (ChunkFetcher fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, upstream),
                    CacheTestSupport.QUICK);
                 ChunkCache cache = ChunkCache.open(cacheDir, manifest, fetcher, ChunkCache.Options.defaults(registry))) {
                int presentAtOpen = cache.stats().presentChunks();
                assertThat(presentAtOpen).as("chunks durable before the kill").isGreaterThanOrEqualTo(32)
                        .isLessThan(CHUNKS);
                ByteBuffer all = ByteBuffer.allocate(image.length);
                cache.read(0, all);
                assertThat(all.array()).isEqualTo(image);
                assertThat(cache.stats().repairs()).as("no present chunk held bad data").isZero();
                assertThat(upstream.bytes()).as("present chunks are not fetched again")
                        .isEqualTo((long) (CHUNKS - presentAtOpen) * CHUNK);
            }
        }
    }

    private static String readLine(final BufferedReader in) {
        try {
            return in.readLine();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
