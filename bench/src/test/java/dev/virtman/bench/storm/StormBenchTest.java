package dev.virtman.bench.storm;

import dev.virtman.trace.BootTrace;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A small storm end to end, in-process: real manager, source target, managed agents and iSCSI
 * sessions per emulated VM. Tree, flat lazy, full copy and a kill of interior agents, with every
 * byte verified.
 */
@Tag("system")
class StormBenchTest {
    private static final int CHUNK = 64 << 10;
    private static final int HOSTS = 4;
    private static final int VMS = 2;
    private static final int FAN_OUT = 2;
    private static final int READS = 120;
    private static final int IMAGE_CHUNKS = 1024;

    @TempDir
    Path work;

    /** Chunk-aligned reads over a 64 MiB image in 1.5 s, so the working set is exact in chunks. */
    private static BootTrace syntheticTrace() {
        SplittableRandom random = new SplittableRandom(7);
        List<BootTrace.Read> reads = new ArrayList<>();
        for (int i = 0; i < READS; i++) {
            long chunk = random.nextInt(IMAGE_CHUNKS);
            long length = (long) (1 + random.nextInt(4)) * CHUNK;
            reads.add(new BootTrace.Read(i * 0.0125, chunk * CHUNK, Math.min(length, (IMAGE_CHUNKS - chunk) * CHUNK)));
        }
        return new BootTrace(reads);
    }

    @Test
    void bootProfileListsEachChunkOnceInFirstReadOrder() {
        BootTrace trace = new BootTrace(List.of(
                new BootTrace.Read(0.0, 0, 512),
                new BootTrace.Read(0.1, 2L * CHUNK + 100, CHUNK),   // chunks 2 and 3
                new BootTrace.Read(0.2, 10, 4096),                  // chunk 0 again
                new BootTrace.Read(0.3, CHUNK, 1)));                // chunk 1
        assertThat(StormBench.firstReadOrder(trace, CHUNK)).containsExactly(0, 2, 3, 1);
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void smallStormCompletesVerifiedWithTreeBoundedSourceBytes() throws Exception {
        BootTrace trace = syntheticTrace();
        long workingSet = trace.distinctBytes();
        StormSettings settings = new StormSettings(HOSTS, VMS, FAN_OUT, "synthetic", trace.reads().size(),
                trace.durationSeconds(), workingSet, CHUNK, trace.bytesFetched(CHUNK),
                StormImage.sizeFor(trace, 0), 1.0, 0, 0.5, false, 2, true);
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        List<StrategyResult> results = new StormBench(settings, trace, work, quiet).run();

        assertThat(results).extracting(StrategyResult::strategy)
                .containsExactly("lone", "tree", "flat", "full-copy", "tree+kill");
        for (StrategyResult r : results) {
            assertThat(r.errors()).as(r.strategy()).isEmpty();
            assertThat(r.mismatchedBytes()).as(r.strategy()).isZero();
            assertThat(r.bootSeconds()).as(r.strategy()).hasSize(r.vms());
            assertThat(r.verifiedBytes()).as(r.strategy()).isEqualTo(r.vms() * trace.totalBytes());
        }
        StrategyResult tree = results.get(1);
        StrategyResult flat = results.get(2);
        StrategyResult fullCopy = results.get(3);
        assertThat(tree.sourceBytes()).isLessThanOrEqualTo((long) (FAN_OUT * workingSet * StormReport.SOURCE_BOUND_SLACK));
        assertThat(tree.bytesPerLevel()).containsKeys(1, 2);
        assertThat((double) flat.sourceBytes()).isBetween(HOSTS * workingSet * 0.95, HOSTS * workingSet * 1.2);
        // Plus a few hundred bytes of INQUIRY and READ CAPACITY data per session.
        assertThat(fullCopy.sourceBytes()).isBetween(2 * StormImage.sizeFor(trace, 0), 2 * StormImage.sizeFor(trace, 0) + 8192);
        assertThat(results.get(4).notes()).anyMatch(n -> n.startsWith("killed 1 of"));

        new StormReport(settings, results).write(work.resolve("out"));
        assertThat(Files.readString(work.resolve("out/storm-report.md"))).contains("| tree | 4×2 | 8 | 0 | 0 |");
        assertThat(Files.readString(work.resolve("out/storm-cdf.svg"))).startsWith("<svg").contains("polyline");
        assertThat(work.resolve("out/storm-report.json")).isNotEmptyFile();
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void frozenInteriorAgentsCostNoVmAndNoByte() throws Exception {
        BootTrace trace = syntheticTrace();
        StormSettings settings = new StormSettings(HOSTS, VMS, FAN_OUT, "synthetic", trace.reads().size(),
                trace.durationSeconds(), trace.distinctBytes(), CHUNK, trace.bytesFetched(CHUNK),
                StormImage.sizeFor(trace, 0), 1.0, 0, 0, false, 0, false, false, 0.5, 2, true, false);
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        List<StrategyResult> results = new StormBench(settings, trace, work, quiet).run();

        assertThat(results).extracting(StrategyResult::strategy)
                .containsExactly("lone", "tree", "tree-unhedged", "tree+freeze");
        for (StrategyResult r : results) {
            assertThat(r.errors()).as(r.strategy()).isEmpty();
            assertThat(r.mismatchedBytes()).as(r.strategy()).isZero();
            assertThat(r.bootSeconds()).as(r.strategy()).hasSize(r.vms());
        }
        assertThat(results.get(2).notes()).contains("hedged fetches: 0 sent, 0 won, 0 refused by the budget"
                + " (agents running at the end)");
        assertThat(results.get(3).notes()).anyMatch(n -> n.startsWith("froze 1 of 2 interior agents"));
        new StormReport(settings, results).write(work.resolve("out"));
        assertThat(Files.readString(work.resolve("out/storm-report.md")))
                .contains("tree (hedged) / tree-unhedged: source bytes").contains("tree+freeze extra time vs tree");
    }
}
