package dev.virtman.block.overlay;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random sequences of sector-aligned writes, reads, flushes and reopens against an in-memory
 * model (a byte array that starts as the base padded with zeros): every read returns the model's
 * bytes, flushed writes survive a reopen, and the base file never changes.
 */
class CopyOnWriteOverlayPropertiesTest {
    private static final int GRAIN = 4096;
    private static final int SECTOR = 512;
    private static final long BASE_SIZE = 12L * GRAIN + 5 * SECTOR;
    private static final long VOLUME_SIZE = 20L * GRAIN;
    private static final int SECTORS = (int) (VOLUME_SIZE / SECTOR);
    private static final int MAX_SECTORS_PER_OP = 24;

    private static Path dir;
    private static Path baseFile;
    private static byte[] baseBytes;
    private static FileBlockDevice base;
    private static int volumes;

    sealed interface Op permits Write, Read, Flush, Reopen { }

    record Write(int sector, int sectors, byte value) implements Op { }

    record Read(int sector, int sectors) implements Op { }

    record Flush() implements Op { }

    /** Flush and close, then open again: the model must hold across a clean restart. */
    record Reopen() implements Op { }

    @BeforeContainer
    static void open() throws IOException {
        dir = Files.createTempDirectory("cow-props");
        baseFile = TestImages.create(dir.resolve("image.raw"), BASE_SIZE, 3);
        baseBytes = Files.readAllBytes(baseFile);
        base = FileBlockDevice.open(baseFile, false);
    }

    @AfterContainer
    static void close() throws IOException {
        base.close();
        assertThat(Files.readAllBytes(baseFile)).isEqualTo(baseBytes);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Provide
    Arbitrary<List<Op>> sequences() {
        Arbitrary<Integer> start = Arbitraries.integers().between(0, SECTORS - 1);
        Arbitrary<Integer> count = Arbitraries.integers().between(1, MAX_SECTORS_PER_OP);
        Arbitrary<Op> write = Combinators.combine(start, count, Arbitraries.bytes())
                .as((s, n, v) -> (Op) new Write(s, Math.min(n, SECTORS - s), v));
        Arbitrary<Op> read = Combinators.combine(start, count).as((s, n) -> (Op) new Read(s, Math.min(n, SECTORS - s)));
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, write), net.jqwik.api.Tuple.of(5, read),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Flush())),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Reopen())));
        return op.list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 150)
    void theVolumeBehavesLikeAnArrayOverItsBase(@ForAll("sequences") final List<Op> ops) throws IOException {
        byte[] model = Arrays.copyOf(baseBytes, (int) VOLUME_SIZE);
        Path vdir = dir.resolve("v" + volumes++);
        OverlayGeometry geometry = new OverlayGeometry(VOLUME_SIZE, GRAIN, CopyOnWriteOverlayTest.id(4));
        CopyOnWriteOverlay v = CopyOnWriteOverlay.create(vdir, geometry, base);
        try {
            for (Op op : ops) {
                switch (op) {
                    case Write w -> {
                        byte[] data = new byte[w.sectors() * SECTOR];
                        for (int i = 0; i < data.length; i++) {
                            data[i] = (byte) (w.value() + i / SECTOR);
                        }
                        v.write((long) w.sector() * SECTOR, ByteBuffer.wrap(data));
                        System.arraycopy(data, 0, model, w.sector() * SECTOR, data.length);
                    }
                    case Read r -> {
                        int off = r.sector() * SECTOR;
                        byte[] got = CopyOnWriteOverlayTest.read(v, off, r.sectors() * SECTOR);
                        assertThat(Arrays.equals(got, 0, got.length, model, off, off + got.length))
                                .as("read %d+%d after %s", r.sector(), r.sectors(), ops).isTrue();
                    }
                    case Flush f -> v.flush();
                    case Reopen r -> {
                        v.close();
                        v = CopyOnWriteOverlay.open(vdir, geometry, base);
                    }
                }
            }
            assertThat(CopyOnWriteOverlayTest.read(v, 0, (int) VOLUME_SIZE)).isEqualTo(model);
        } finally {
            v.close();
            CopyOnWriteOverlay.delete(vdir);
        }
    }
}
