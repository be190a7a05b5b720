package dev.virtman.agent;

import dev.virtman.boot.SourceTarget;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.testing.Commands;
import dev.virtman.testing.GuestImages;
import dev.virtman.testing.QemuProcess;
import dev.virtman.trace.BootTrace;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue proofs 1 and 2 with a real guest: QEMU (TCG) boots the busybox test guest
 * ({@code scripts/build-guest}) from a qcow2 overlay whose backing file is agent B's export;
 * B's parent is agent A, A's parent the source (depth 2). The source must serve exactly the
 * chunks the boot touched (measured from B's read trace), and a second guest booted from B must
 * fetch nothing upstream.
 */
@Tag("interop")
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class AgentGuestBootTest {
    private static final int CHUNK = ChunkManifest.DEFAULT_CHUNK_SIZE;
    private static final String IMAGE = "guest";
    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(3);
    private static final double MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aGuestBootsThroughTwoAgentsAndTheSourceServesOnlyTheWorkingSet() throws Exception {
        GuestImages guest = GuestImages.build();
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 2, ManifestBuilder.ProgressListener.NONE)
                .build(guest.rootfs());
        Path manifestFile = dir.resolve("guest.manifest");
        ManifestFormat.write(manifest, manifestFile);
        Path traces = dir.resolve("traces");
        try (SourceTarget source = SourceTarget.export(new InetSocketAddress("127.0.0.1", 0), ImageConfig.iqnOf(IMAGE), guest.rootfs());
             Agent a = Agent.start(AgentConfig.of(new ImageConfig(IMAGE, List.of(source.url()), manifestFile),
                     new InetSocketAddress("127.0.0.2", 0), null, dir.resolve("cache-a")).withFetchPolicy(ExactOnceFetching.POLICY));
             Agent b = Agent.start(AgentConfig.of(
                     new ImageConfig(IMAGE, List.of(a.exportUrl(IMAGE), source.url()), manifestFile),
                     new InetSocketAddress("127.0.0.3", 0), null, dir.resolve("cache-b")).withReadTraceDir(traces)
                     .withFetchPolicy(ExactOnceFetching.POLICY))) {
            bootToCompletion(guest, b.exportUrl(IMAGE), manifest.imageSize(), dir.resolve("first.qcow2"));

            BootTrace trace = BootTrace.readCsv(traces.resolve(IMAGE + ".csv"));
            long workingSet = trace.distinctBytes();
            long touchedChunkBytes = trace.bytesFetched(CHUNK);
            long fromSource = source.bytesServed();
            long aFetched = fetched(a);
            long bFetched = fetched(b);
            System.out.printf("first boot: working set %.2f MiB (%d reads, %.2f MiB read); chunks touched %.2f MiB;"
                            + " source served %.2f MiB; agent A fetched %.2f MiB, served %.2f MiB;"
                            + " agent B fetched %.2f MiB, served %.2f MiB%n",
                    workingSet / MIB, trace.reads().size(), trace.totalBytes() / MIB, touchedChunkBytes / MIB,
                    fromSource / MIB, aFetched / MIB, served(a) / MIB, bFetched / MIB, served(b) / MIB);
            assertThat(workingSet).as("the guest read its 24 MiB data blob").isGreaterThan(24L << 20);
            assertThat(fromSource).as("source bytes = the chunks the boot touched, each once")
                    .isEqualTo(touchedChunkBytes).isEqualTo(aFetched).isEqualTo(bFetched);
            assertThat(fromSource).isLessThan(manifest.imageSize() / 2);
            assertThat(fetchedFrom(b, source.url())).as("B fetched nothing past A").isZero();

            bootToCompletion(guest, b.exportUrl(IMAGE), manifest.imageSize(), dir.resolve("second.qcow2"));
            System.out.printf("second boot on B: B fetched %.2f MiB more, source served %.2f MiB more%n",
                    (fetched(b) - bFetched) / MIB, (source.bytesServed() - fromSource) / MIB);
            assertThat(fetched(b)).as("second boot fetched nothing upstream").isEqualTo(bFetched);
            assertThat(source.bytesServed()).isEqualTo(fromSource);
            assertThat(b.image(IMAGE).stats().hits()).isPositive();
        }
    }

    /** Boots a guest from a fresh overlay over {@code backing}; it verifies its data, writes, powers off. */
    static void bootToCompletion(final GuestImages guest, final String backing, final long size, final Path overlay) {
        createOverlay(backing, size, overlay);
        try (QemuProcess vm = QemuProcess.boot(guest, overlay)) {
            assertThat(vm.awaitLine(GuestImages.UP_MARKER, BOOT_TIMEOUT)).startsWith(GuestImages.UP_LINE_DATA_OK);
            vm.awaitLine(GuestImages.DONE_MARKER, BOOT_TIMEOUT);
            vm.awaitExit(BOOT_TIMEOUT);
        }
    }

    /**
     * A qcow2 overlay over an {@code iscsi://} backing file. The size is given, so qemu-img does
     * not open the backing file and its probe reads stay out of the agent's trace.
     */
    static void createOverlay(final String backing, final long size, final Path overlay) {
        Commands.run(Duration.ofMinutes(1), "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                "-b", backing, overlay.toString(), Long.toString(size)).requireSuccess();
        assertThat(Files.exists(overlay)).isTrue();
    }

    private static long fetched(final Agent agent) {
        return agent.status().images().getFirst().parents().stream().mapToLong(AgentStatus.Parent::bytesFetched).sum();
    }

    private static long fetchedFrom(final Agent agent, final String url) {
        return agent.status().images().getFirst().parents().stream().filter(p -> p.url().equals(url))
                .mapToLong(AgentStatus.Parent::bytesFetched).sum();
    }

    private static long served(final Agent agent) {
        return agent.status().images().getFirst().bytesServed();
    }
}
