package dev.virtman.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.SenseKey;
import dev.virtman.scsi.SupportedOperations;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SupportedOperationsTest {
    @TempDir
    Path dir;
    DiskFixture rw;

    @BeforeEach
    void setUp() {
        rw = DiskFixture.create(dir, 64, true);
    }

    @AfterEach
    void tearDown() throws Exception {
        rw.close();
    }

    private static ByteBuffer rsoc(final int rctdAndOptions, final int opcode, final int sa, final int allocation) {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte) 0xA3).put((byte) 0x0C).put((byte) rctdAndOptions).put((byte) opcode).putShort((short) sa);
        b.putInt(allocation).put((byte) 0).put((byte) 0);
        return b.flip();
    }

    @Test
    void everyReportedCommandIsImplementedWithTheRightCdbLength() {
        ByteBuffer d = ByteBuffer.wrap(rw.good(rsoc(0, 0, 0, 65535)));
        int length = d.getInt(0);
        assertThat(length).isEqualTo(SupportedOperations.commandCount() * 8);
        for (int at = 4; at < 4 + length; at += 8) {
            int opcode = d.get(at) & 0xFF;
            boolean servactv = (d.get(at + 5) & 1) != 0;
            int sa = d.getShort(at + 2) & 0xFFFF;
            assertThat(d.getShort(at + 6)).isEqualTo((short) ScsiOpcode.cdbLength(opcode));
            if (!servactv) {
                assertThat(sa).isZero();
            }
            ByteBuffer one = ByteBuffer.wrap(rw.good(rsoc(servactv ? 2 : 1, opcode, sa, 512)));
            assertThat(one.get(1) & 0x07).isEqualTo(0b011);
            assertThat(one.getShort(2)).isEqualTo((short) ScsiOpcode.cdbLength(opcode));
            assertThat(one.get(4) & 0xFF).isEqualTo(opcode);
            rw.invalidField(rsoc(servactv ? 1 : 2, opcode, sa, 512), 2);
            // An all-zero CDB of the command (bar opcode and service action) is not "unsupported".
            ByteBuffer probe = ByteBuffer.allocate(16);
            probe.put(0, (byte) opcode);
            if (servactv) {
                probe.put(1, (byte) sa);
            }
            ScsiResponse r = rw.run(probe.limit(ScsiOpcode.cdbLength(opcode)));
            if (r.senseData() != null) {
                assertThat(r.senseData()[12]).as("opcode %02x", opcode).isNotEqualTo((byte) 0x20);
            }
        }
    }

    @Test
    void unsupportedCommandIsReportedAsNotSupported() {
        byte[] d = rw.good(rsoc(1, 0x42, 0, 512));
        assertThat(d[1] & 0x07).isEqualTo(0b001);
        rw.check(Cdbs.cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_COMMAND_OPERATION_CODE);
    }

    @Test
    void rctdAddsTimeoutDescriptors() {
        ByteBuffer d = ByteBuffer.wrap(rw.good(rsoc(0x80, 0, 0, 65535)));
        assertThat(d.getInt(0)).isEqualTo(SupportedOperations.commandCount() * 20);
        assertThat(d.get(4 + 5) & 0x02).isEqualTo(0x02);
        assertThat(d.getShort(12)).isEqualTo((short) 0x0A);
        ByteBuffer one = ByteBuffer.wrap(rw.good(rsoc(0x81, 0x28, 0, 512)));
        assertThat(one.get(1) & 0x80).isEqualTo(0x80);
        assertThat(one.limit()).isEqualTo(4 + 10 + 12);
    }

    @Test
    void allocationLengthTruncatesAndBadOptionsAreRefused() {
        assertThat(rw.good(rsoc(0, 0, 0, 10))).hasSize(10);
        rw.invalidField(rsoc(0x07, 0, 0, 512), 2);
        rw.invalidField(Cdbs.cdb(0xA3, 0x05, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0), 1);
    }
}
