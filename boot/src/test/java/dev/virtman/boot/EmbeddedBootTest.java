package dev.virtman.boot;

import dev.virtman.testing.Await;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.ProjectPaths;
import dev.virtman.vm.BootSource;
import dev.virtman.vm.GuestMarker;
import dev.virtman.vm.QemuVmDriver;
import dev.virtman.vm.VmPhase;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded default end to end, as {@code virtman boot} runs it: manager, source, two
 * agents on 127.0.0.2/3 (host-2 a child of host-1), two real QEMU guests (TCG) on qcow2 overlays over the agents' iSCSI
 * exports. Checks the guests come up and verify their data, that the source serves about one
 * boot working set (a few percent of the image), that a second boot on warm caches fetches
 * nothing, and that guest writes reach neither the image nor the shared cache.
 */
@Tag("interop")
class EmbeddedBootTest {

    @TempDir
    Path work;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void bootsGuestsOverTheTreeFetchingOnlyTheWorkingSetAndKeepingWritesLocal() throws Exception {
        System.setProperty("virtman.home", ProjectPaths.root().toString());
        DemoImage.Guest demo = DemoImage.ensure(work.resolve("demo"), ProgressSink.NONE);
        String imageHashBefore = Checksums.sha256(demo.image());
        QemuVmDriver driver = new QemuVmDriver(BootDirs.vmDir(work));
        BootRun.Settings settings = new BootRun.Settings(2, "vm", new BootSource.DirectKernel(demo.kernel(),
                demo.initrd(), DemoImage.KERNEL_APPEND), 256, GuestMarker.UP,
                Duration.ofMinutes(8));

        List<VmBoot> launched = new CopyOnWriteArrayList<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(work, demo.image(), "demo", 2, 1, ProgressSink.NONE)) {
            BootOutcome cold = new BootRun(cluster, driver, ProgressSink.NONE).run(settings, Instant.now(), launched::addAll);
            assertThat(cold.upCount()).as(cold.summary() + consoles(cold)).isEqualTo(2);
            for (VmBoot v : cold.vms()) {
                assertThat(Files.readString(v.vm().serialLog())).as(v.vm().name()).contains("VIRTMAN-GUEST-UP data=ok");
                assertThat(v.vm().timeline().at(VmPhase.GUEST_UP)).isPresent();
                // the VM's own initiator name lets its agent time its first read, between launch and up
                assertThat(v.vm().timeline().at(VmPhase.FIRST_READ)).as(v.vm().name()).isPresent();
                assertThat(v.vm().timeline().between(VmPhase.PROCESS_STARTED, VmPhase.FIRST_READ)).get()
                        .matches(d -> !d.isNegative());
                assertThat(v.vm().timeline().between(VmPhase.FIRST_READ, VmPhase.GUEST_UP)).get()
                        .matches(d -> !d.isNegative());
            }
            // Fan-out 1 chains host-2 under host-1: one working set crossed the source (the guest
            // reads ~25 MiB), not one per VM or per host, and a few percent of the 1 GiB image.
            assertThat(cold.sourceBytes()).isGreaterThan(10L << 20).isLessThan(cold.imageBytes() / 20);
            Path report = work.resolve("boot.html");
            TimelineReport.write(cold, report);
            assertThat(Files.readString(report)).contains("vm-1 (host-1)", "vm-2 (host-2)", "set-up", "up ", "<title>first read");
            // Guest writes went to the overlays: the image is unchanged, the caches hold only image data.
            cold.vms().forEach(v -> driver.destroy(v.vm()));
            assertThat(Checksums.sha256(demo.image())).isEqualTo(imageHashBefore);
            for (int host = 0; host < cluster.hostCount(); host++) {
                assertCacheHoldsOnlyImageData(cluster.cache(host));
            }

            // Background work of the cold boot (profile prefetch, a child's late fetch) must not be
            // counted against the warm boot: wait until the agents have been idle for 2 s.
            awaitQuiet(cluster);
            BootRun.Settings again = new BootRun.Settings(1, "warm", settings.boot(), 256, GuestMarker.UP,
                    Duration.ofMinutes(8));
            BootOutcome warm = new BootRun(cluster, driver, ProgressSink.NONE).run(again, Instant.now(), launched::addAll);
            assertThat(warm.upCount()).as(warm.summary() + consoles(warm)).isEqualTo(1);
            assertThat(warm.sourceBytes()).as("a warm boot is served from the agents' caches").isZero();
            assertThat(warm.agentFetchedBytes()).isZero();
            warm.vms().forEach(v -> driver.destroy(v.vm()));
        } finally {
            // a failed assertion must not leave guests running past the test
            for (VmBoot v : launched) {
                try {
                    driver.destroy(v.vm());
                } catch (RuntimeException e) {
                    // already destroyed above
                }
            }
        }
    }

    private static void awaitQuiet(final EmbeddedCluster cluster) throws InterruptedException {
        long[] last = {-1, System.nanoTime()}; // bytes moved, when that figure last changed
        Await.until(() -> {
            long now = cluster.sourceBytesServed() + cluster.bytesFetchedByAgents();
            if (now != last[0]) {
                last[0] = now;
                last[1] = System.nanoTime();
                return false;
            }
            return System.nanoTime() - last[1] > TimeUnit.SECONDS.toNanos(2);
        }, java.time.Duration.ofSeconds(60), "no bytes fetched or served for 2 s");
    }

    /** The consoles of VMs that did not come up, for the failure message. */
    private static String consoles(final BootOutcome outcome) throws IOException {
        StringBuilder s = new StringBuilder();
        for (VmBoot v : outcome.vms()) {
            if (v.vm().timeline().at(VmPhase.GUEST_UP).isEmpty() && Files.exists(v.vm().serialLog())) {
                String log = Files.readString(v.vm().serialLog());
                s.append("\n--- ").append(v.vm().name()).append(" console (tail) ---\n")
                        .append(log.substring(Math.max(0, log.length() - 3000)));
            }
        }
        return s.toString();
    }

    /** Every chunk the cache has marked present still hashes to the image's manifest. */
    private static void assertCacheHoldsOnlyImageData(final ChunkCache cache) throws IOException {
        CacheAudit.Result audit = CacheAudit.check(cache);
        assertThat(audit.clean()).as(audit.describe()).isTrue();
        assertThat(audit.present()).isPositive();
    }
}
