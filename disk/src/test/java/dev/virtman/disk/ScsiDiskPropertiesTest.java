package dev.virtman.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.BlockLimits;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiStatus;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Properties over arbitrary CDBs: the device server never throws and never over-allocates. */
class ScsiDiskPropertiesTest {
    private static final long BLOCKS = 1000;
    private static Path dir;
    private static DiskFixture disk;

    @BeforeContainer
    static void open() throws IOException {
        dir = Files.createTempDirectory("scsi-props");
        disk = DiskFixture.create(dir, BLOCKS, true);
    }

    @AfterContainer
    static void close() throws IOException {
        disk.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    @Provide
    Arbitrary<byte[]> cdbs() {
        Arbitrary<Integer> opcode = Arbitraries.oneOf(
                Arbitraries.of(ScsiOpcode.values()).map(ScsiOpcode::code),
                Arbitraries.integers().between(0, 255));
        Arbitrary<byte[]> rest = Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(15);
        return opcode.flatMap(op -> rest.map(r -> {
            byte[] cdb = new byte[1 + r.length];
            cdb[0] = (byte) (int) op;
            System.arraycopy(r, 0, cdb, 1, r.length);
            return cdb;
        }));
    }

    @Property(tries = 1500)
    void anyCdbGetsAWellFormedResponse(@ForAll("cdbs") final byte[] cdb,
                                       @ForAll("dataOutSizes") final int dataOutSize) {
        ScsiResponse r = disk.run(ByteBuffer.wrap(cdb), dataOutSize < 0 ? null : ByteBuffer.allocate(dataOutSize));
        assertThat(r).isNotNull();
        assertThat(r.status()).isIn(ScsiStatus.GOOD.code(), ScsiStatus.CHECK_CONDITION.code());
        if (r.status() == ScsiStatus.CHECK_CONDITION.code()) {
            assertThat(r.senseData()).hasSize(SenseData.LENGTH);
            assertThat(r.senseData()[SenseData.SENSE_KEY_OFFSET]).as("never an internal failure")
                    .isNotEqualTo((byte) SenseKey.HARDWARE_ERROR.code());
        } else if (r.dataIn() != null) {
            assertThat(r.dataIn().remaining()).isLessThanOrEqualTo(BlockLimits.MAX_TRANSFER_BYTES);
        }
    }

    @Provide
    Arbitrary<Integer> dataOutSizes() {
        return Arbitraries.oneOf(Arbitraries.of(-1, 0, 512, 1024, 4096), Arbitraries.integers().between(0, 70_000));
    }

    @Property(tries = 1000)
    void read16SucceedsExactlyInsideTheDevice(@ForAll("lbas") final long lba, @ForAll("lengths") final long length) {
        ScsiResponse r = disk.run(Cdbs.rw16(ScsiOpcode.READ_16, 0, lba, length));
        boolean inside = Long.compareUnsigned(lba, BLOCKS) <= 0 && length <= BLOCKS - lba;
        if (inside) {
            assertThat(r.status()).isEqualTo(ScsiStatus.GOOD.code());
            assertThat(DiskFixture.bytes(r)).hasSize((int) length * DiskFixture.BLOCK);
        } else {
            DiskFixture.assertCheck(r, SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
        }
    }

    @Provide
    Arbitrary<Long> lbas() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0, BLOCKS + 2),
                Arbitraries.of(-1L, Long.MIN_VALUE, Long.MAX_VALUE, 0xFFFF_FFFFL, -BLOCKS));
    }

    @Provide
    Arbitrary<Long> lengths() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0, BLOCKS + 2), Arbitraries.of(0xFFFF_FFFFL));
    }
}
