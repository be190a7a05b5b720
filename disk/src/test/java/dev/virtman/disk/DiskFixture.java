package dev.virtman.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiStatus;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/** A {@link ScsiDisk} over a real {@link FileBlockDevice} on a temporary file, plus assertions. */
final class DiskFixture implements AutoCloseable {
    static final int BLOCK = 512;

    final Path file;
    final FileBlockDevice device;
    final ScsiDisk disk;

    private DiskFixture(final Path file, final FileBlockDevice device, final ScsiDisk disk) {
        this.file = file;
        this.device = device;
        this.disk = disk;
    }

    /** A disk of {@code blocks} 512-byte blocks whose block i is filled with byte (i & 0xFF). */
    static DiskFixture create(final Path dir, final long blocks, final boolean writable) {
        return create(dir, blocks, writable, DiskIdentity.fromName("iqn.2026-11.dev.virtman:test/0"));
    }

    static DiskFixture create(final Path dir, final long blocks, final boolean writable, final DiskIdentity id) {
        try {
            Path file = Files.createTempFile(dir, "disk", ".img");
            try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                ByteBuffer block = ByteBuffer.allocate(BLOCK);
                for (long i = 0; i < blocks; i++) {
                    block.clear();
                    java.util.Arrays.fill(block.array(), (byte) i);
                    ch.write(block, i * BLOCK);
                }
            }
            FileBlockDevice device = FileBlockDevice.open(file, writable);
            return new DiskFixture(file, device, new ScsiDisk(device, id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    ScsiResponse run(final ByteBuffer cdb) {
        return run(cdb, null);
    }

    ScsiResponse run(final ByteBuffer cdb, final ByteBuffer dataOut) {
        int edtl = dataOut == null ? 1 << 20 : dataOut.remaining();
        return disk.execute(new ScsiCommand(0, cdb, edtl, dataOut));
    }

    /** Runs and asserts GOOD; returns the data-in bytes (empty when none). */
    byte[] good(final ByteBuffer cdb) {
        return good(cdb, null);
    }

    byte[] good(final ByteBuffer cdb, final ByteBuffer dataOut) {
        ScsiResponse r = run(cdb, dataOut);
        assertThat(r.status()).as("status, sense %s", describe(r)).isEqualTo(ScsiStatus.GOOD.code());
        return bytes(r);
    }

    static byte[] bytes(final ScsiResponse r) {
        if (r.dataIn() == null) {
            return new byte[0];
        }
        ByteBuffer d = r.dataIn().duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    /** Asserts CHECK CONDITION with the given key and ASC/ASCQ; returns the sense bytes. */
    static byte[] assertCheck(final ScsiResponse r, final SenseKey key, final AdditionalSense asc) {
        assertThat(r.status()).as("status").isEqualTo(ScsiStatus.CHECK_CONDITION.code());
        byte[] s = r.senseData();
        assertThat(s).hasSize(SenseData.LENGTH);
        assertThat(s[0] & 0x7F).isEqualTo(SenseData.RESPONSE_CODE_CURRENT_FIXED);
        assertThat(s[SenseData.SENSE_KEY_OFFSET] & 0x0F).as("sense key").isEqualTo(key.code());
        assertThat(s[SenseData.ASC_OFFSET] & 0xFF).as("ASC").isEqualTo(asc.asc());
        assertThat(s[SenseData.ASCQ_OFFSET] & 0xFF).as("ASCQ").isEqualTo(asc.ascq());
        return s;
    }

    byte[] check(final ByteBuffer cdb, final SenseKey key, final AdditionalSense asc) {
        return assertCheck(run(cdb), key, asc);
    }

    byte[] check(final ByteBuffer cdb, final ByteBuffer dataOut, final SenseKey key, final AdditionalSense asc) {
        return assertCheck(run(cdb, dataOut), key, asc);
    }

    /** Asserts INVALID FIELD IN CDB with the field pointer at {@code byteOffset}. */
    byte[] invalidField(final ByteBuffer cdb, final int byteOffset) {
        byte[] s = check(cdb, SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
        assertThat(s[SenseData.SENSE_KEY_SPECIFIC_OFFSET] & 0xC0).as("SKSV and C/D").isEqualTo(0xC0);
        assertThat(((s[16] & 0xFF) << 8) | (s[17] & 0xFF)).as("field pointer").isEqualTo(byteOffset);
        return s;
    }

    byte[] invalidField(final ByteBuffer cdb, final ByteBuffer dataOut, final int byteOffset) {
        byte[] s = check(cdb, dataOut, SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB);
        assertThat(((s[16] & 0xFF) << 8) | (s[17] & 0xFF)).as("field pointer").isEqualTo(byteOffset);
        return s;
    }

    static String describe(final ScsiResponse r) {
        byte[] s = r.senseData();
        return s == null ? "none" : String.format("key %x asc %02x/%02x", s[2] & 0xF, s[12] & 0xFF, s[13] & 0xFF);
    }

    @Override
    public void close() throws IOException {
        device.close();
    }
}
