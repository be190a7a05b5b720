package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("interop")
class KvmProbeTest {

    @Test
    void aKernelThatCannotBeLoadedMeansTcgWithAReason() {
        long start = System.nanoTime();
        KvmProbe.Result r = KvmProbe.probe(Path.of("/nonexistent/vmlinuz"), Duration.ofSeconds(20));
        assertThat(r.accelerator()).isEqualTo(Accelerator.TCG);
        assertThat(r.reason()).isNotBlank();
        // QEMU fails at once on a missing kernel: the probe must not sit out its timeout.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void detectAnswersWithinItsBoundAndCaches() {
        long start = System.nanoTime();
        KvmProbe.Result first = KvmProbe.detect();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        assertThat(first.reason()).isNotBlank();
        assertThat(KvmProbe.detect()).isSameAs(first);
    }
}
