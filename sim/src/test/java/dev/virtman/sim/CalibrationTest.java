package dev.virtman.sim;

import dev.virtman.block.cache.FetchPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class CalibrationTest {
    private static final int CHUNK = 64 << 10;

    /**
     * A storm report of one host replaying a trace of two 4 KiB READs of one 64 KiB chunk: the lone
     * VM's run is 3 SCSI commands moving 72 KiB (its 2 READs, the agent's one upstream READ of the
     * chunk), the 1×4 run 9 commands moving 96 KiB (8 READs, one shared upstream READ).
     */
    private static Path report(final Path dir, final double loneCpu, final double fourCpu) throws IOException {
        Path trace = dir.resolve("one-read.csv");
        Files.writeString(trace, "time_offset_seconds,byte_offset,length\n0.0,0,4096\n0.0,0,4096\n");
        String run = """
                {"strategy":"%s","hosts":1,"vmsPerHost":%d,"completed":%d,"failedVms":0,"p50Seconds":0.1,
                 "p99Seconds":0.1,"maxSeconds":0.1,"sourceBytes":%d,"cpuSeconds":%s,"wallSeconds":0.1}""";
        String json = "{\"settings\":{\"hosts\":1,\"vmsPerHost\":4,\"fanOut\":2,\"trace\":\"" + trace + "\","
                + "\"chunkSize\":" + CHUNK + ",\"timeScale\":0.0,\"linkBytesPerSecond\":0,\"imageBytes\":" + (16 * CHUNK)
                + "},\"results\":[" + String.format(Locale.ROOT, run, "lone", 1, 1, CHUNK, Double.toString(loneCpu)) + ","
                + String.format(Locale.ROOT, run, "tree", 4, 4, CHUNK, Double.toString(fourCpu)) + "]}";
        Path report = dir.resolve("storm-report.json");
        Files.writeString(report, json);
        return report;
    }

    @Test
    void cpuCostsPerCommandAndPerByteComeBackFromTheReferenceRunsCpuTime(@TempDir final Path dir) throws IOException {
        double perCommand = 1e-4;
        double perByte = 1e-8;
        Path report = report(dir, 3 * perCommand + 72 * 1024 * perByte, 9 * perCommand + 96 * 1024 * perByte);
        Testbed t = new Calibration(FetchPolicy.DEFAULT).testbedFrom(StormMeasurement.read(report, null), 2);
        assertThat(t.cores()).isEqualTo(2);
        assertThat(t.cpuPerCommand()).isCloseTo(perCommand, within(1e-12));
        assertThat(t.cpuPerByte()).isCloseTo(perByte, within(1e-15));
    }

    @Test
    void aReportWithoutCpuTimesCannotCalibrateTheTestbed(@TempDir final Path dir) throws IOException {
        Path report = report(dir, -1, -1);
        assertThatThrownBy(() -> new Calibration(FetchPolicy.DEFAULT).testbedFrom(StormMeasurement.read(report, null), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CPU time");
    }
}
