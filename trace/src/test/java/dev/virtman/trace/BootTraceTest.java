package dev.virtman.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BootTraceTest {

    private static BootTrace parse(final String csv) throws IOException {
        return BootTrace.parse(new BufferedReader(new StringReader(csv)), "test.csv");
    }

    @Test
    void parsesReadsInOrder() throws IOException {
        BootTrace trace = parse("""
                time_offset_seconds,byte_offset,length
                0.000000,0,512
                0.5,4096,4096

                1.25,8589934592,65536
                """);
        assertThat(trace.reads()).containsExactly(
                new BootTrace.Read(0, 0, 512),
                new BootTrace.Read(0.5, 4096, 4096),
                new BootTrace.Read(1.25, 8L << 30, 65536));
        assertThat(trace.durationSeconds()).isEqualTo(1.25);
        assertThat(trace.totalBytes()).isEqualTo(512 + 4096 + 65536);
    }

    @Test
    void distinctBytesCountsOverlapsOnce() {
        BootTrace trace = new BootTrace(List.of(
                new BootTrace.Read(0, 0, 512),
                new BootTrace.Read(1, 0, 512),          // same bytes again
                new BootTrace.Read(2, 256, 1024),       // overlaps the first, extends to 1280
                new BootTrace.Read(3, 1280, 100),       // adjacent: extends to 1380
                new BootTrace.Read(4, 10_000, 10)));    // separate run
        assertThat(trace.totalBytes()).isEqualTo(512 + 512 + 1024 + 100 + 10);
        assertThat(trace.distinctBytes()).isEqualTo(1380 + 10);
    }

    @Test
    void chunksTouchedCountsEachAlignedChunkOnce() {
        BootTrace trace = new BootTrace(List.of(
                new BootTrace.Read(0, 0, 1),            // chunk 0
                new BootTrace.Read(1, 4095, 2),         // chunks 0 and 1
                new BootTrace.Read(2, 3 * 4096, 4096),  // exactly chunk 3
                new BootTrace.Read(3, 100, 10)));       // chunk 0 again
        assertThat(trace.chunksTouched(4096)).isEqualTo(3);
        assertThat(trace.bytesFetched(4096)).isEqualTo(3 * 4096);
        assertThat(trace.chunksTouched(1 << 20)).isEqualTo(1);
        assertThat(trace.chunksTouched(1)).isEqualTo(trace.distinctBytes());
    }

    @Test
    void emptyTraceIsZero() {
        BootTrace trace = new BootTrace(List.of());
        assertThat(trace.distinctBytes()).isZero();
        assertThat(trace.chunksTouched(4096)).isZero();
        assertThat(trace.durationSeconds()).isZero();
    }

    @Test
    void rejectsBadInputWithLineNumbers() {
        assertThatThrownBy(() -> parse("time,offset\n")).isInstanceOf(IOException.class)
                .hasMessageContaining("first line must be");
        assertThatThrownBy(() -> parse(BootTrace.CSV_HEADER + "\n0,0,512\n1,abc,512\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("test.csv:3");
        assertThatThrownBy(() -> parse(BootTrace.CSV_HEADER + "\n0,0,0\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("length");
        assertThatThrownBy(() -> parse(BootTrace.CSV_HEADER + "\n0,-1,512\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("offset");
        assertThatThrownBy(() -> parse(BootTrace.CSV_HEADER + "\n2,0,512\n1,0,512\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("time order");
        assertThatThrownBy(() -> parse(BootTrace.CSV_HEADER + "\n0,9223372036854775000,4096\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("overflows");
        assertThatThrownBy(() -> new BootTrace(List.of()).chunksTouched(0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shippedDebianTraceIsAPlausibleBoot() throws IOException {
        BootTrace trace = BootTrace.readCsv(Path.of("bench/traces/debian12-boot.csv"));
        // A systemd boot to multi-user reads tens of MiB of its multi-GiB image, not all of it.
        assertThat(trace.reads()).hasSizeGreaterThan(100);
        assertThat(trace.distinctBytes()).isBetween(10L << 20, 200L << 20);
        assertThat(trace.bytesFetched(1 << 20)).isGreaterThan(trace.bytesFetched(64 << 10));
        assertThat(trace.bytesFetched(4096)).isGreaterThanOrEqualTo(trace.distinctBytes());
    }

    @Test
    void reportListsEveryChunkSize() {
        BootTrace trace = new BootTrace(List.of(new BootTrace.Read(0, 0, 4096), new BootTrace.Read(2, 1 << 20, 4096)));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BootTraceStats.report("t", trace, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String report = bytes.toString(StandardCharsets.UTF_8);
        assertThat(report).contains("working set    0.01 MiB", "4 KiB", "16 KiB", "64 KiB", "256 KiB", "1 MiB", "4 MiB");
        assertThat(report).containsPattern("4 MiB +1 +4\\.00 MiB").containsPattern("1 MiB +2 +2\\.00 MiB");
    }
}
