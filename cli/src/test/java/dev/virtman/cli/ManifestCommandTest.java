package dev.virtman.cli;

import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ManifestCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) { }

    private Run run(final String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new VirtmanCommand());
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void writesTheManifestAndPrintsTheImageId() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), 1 << 20, 1);
        Run r = run("manifest", image.toString(), "--chunk-size", "128K");
        assertThat(r.exit()).as(r.err()).isZero();
        ChunkManifest m = ManifestFormat.read(dir.resolve("disk.raw.manifest"));
        assertThat(m.chunkSize()).isEqualTo(128 << 10);
        assertThat(m.chunkCount()).isEqualTo(8);
        assertThat(r.out().trim()).isEqualTo(m.imageIdHex());
        assertThat(r.err()).contains("8 chunks of 128K");
    }

    @Test
    void honoursOutputAndRejectsBadChunkSizes() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), 1 << 16, 2);
        Path out = dir.resolve("x.manifest");
        assertThat(run("manifest", "-q", "-o", out.toString(), image.toString()).exit()).isZero();
        assertThat(ManifestFormat.read(out).chunkSize()).isEqualTo(ChunkManifest.DEFAULT_CHUNK_SIZE);

        Run bad = run("manifest", "--chunk-size", "3K", image.toString());
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("--chunk-size").contains("power of two");
        Run missing = run("manifest", dir.resolve("nope").toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).contains("not a regular file");
    }
}
