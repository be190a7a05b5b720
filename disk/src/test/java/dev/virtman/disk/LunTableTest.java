package dev.virtman.disk;

import static dev.virtman.disk.Cdbs.rw10;
import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.ReportLuns;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LunTableTest {
    @TempDir
    Path dir;
    DiskFixture lun0;
    DiskFixture lun1;
    LunTable table;

    @BeforeEach
    void setUp() {
        lun0 = DiskFixture.create(dir, 16, false, DiskIdentity.fromName("t/0"));
        lun1 = DiskFixture.create(dir, 32, true, DiskIdentity.fromName("t/1"));
        table = new LunTable(List.of(lun0.disk, lun1.disk));
    }

    @AfterEach
    void tearDown() throws Exception {
        lun0.close();
        lun1.close();
    }

    private ScsiResponse run(final long lun, final ByteBuffer cdb) {
        return table.execute(new ScsiCommand(lun, cdb, 4096, null));
    }

    @Test
    void commandsAreRoutedByLun() {
        ScsiResponse r0 = run(ReportLuns.encodeLun(0), Cdbs.readCapacity16(32));
        ScsiResponse r1 = run(ReportLuns.encodeLun(1), Cdbs.readCapacity16(32));
        assertThat(DiskFixture.bytes(r0)[7]).isEqualTo((byte) 15);
        assertThat(DiskFixture.bytes(r1)[7]).isEqualTo((byte) 31);
    }

    @Test
    void reportLunsListsEveryLunFromAnyLunIncludingMissingOnes() {
        for (long lun : new long[] {ReportLuns.encodeLun(0), ReportLuns.encodeLun(7)}) {
            ByteBuffer d = ByteBuffer.wrap(DiskFixture.bytes(run(lun, Cdbs.reportLuns(0, 4096))));
            assertThat(d.getInt(0)).isEqualTo(16);
            assertThat(d.getLong(8)).isZero();
            assertThat(d.getLong(16)).isEqualTo(1L << 48);
            assertThat(d.limit()).isEqualTo(24);
        }
        assertThat(DiskFixture.bytes(run(0, Cdbs.reportLuns(0, 16)))).hasSize(16);
        assertThat(ByteBuffer.wrap(DiskFixture.bytes(run(0, Cdbs.reportLuns(1, 64)))).getInt(0)).isZero();
        DiskFixture.assertCheck(run(0, Cdbs.reportLuns(0, 15)), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_CDB);
        DiskFixture.assertCheck(run(0, Cdbs.reportLuns(0x7, 64)), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_CDB);
    }

    @Test
    void reportLunsWorksWithoutAnyDiskAtLunZero() {
        LunTable empty = new LunTable(List.of());
        ScsiResponse r = empty.execute(new ScsiCommand(0, Cdbs.reportLuns(0, 64), 64, null));
        assertThat(ByteBuffer.wrap(DiskFixture.bytes(r)).getInt(0)).isZero();
    }

    @Test
    void inquiryToAMissingLunSaysNoLogicalUnit() {
        byte[] d = DiskFixture.bytes(run(ReportLuns.encodeLun(5), Cdbs.inquiry(false, 0, 36)));
        assertThat(d).hasSize(36);
        assertThat(d[0]).isEqualTo((byte) 0x7F);
    }

    @Test
    void otherCommandsToAMissingLunAreLogicalUnitNotSupported() {
        DiskFixture.assertCheck(run(ReportLuns.encodeLun(2), rw10(ScsiOpcode.READ_10, 0, 0, 1)),
                SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED);
        DiskFixture.assertCheck(run(ReportLuns.encodeLun(0) | 1, Cdbs.cdb(0, 0, 0, 0, 0, 0)),
                SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED);
        ScsiResponse sense = run(ReportLuns.encodeLun(3), Cdbs.cdb(0x03, 0, 0, 0, 18, 0));
        assertThat(sense.status()).isZero();
        assertThat(DiskFixture.bytes(sense)[12]).isEqualTo((byte) 0x25);
    }

    @Test
    void lunFieldDecodingFollowsSam5SingleLevelAddressing() {
        assertThat(ReportLuns.decodeLun(0)).isZero();
        assertThat(ReportLuns.decodeLun(0x0001_0000_0000_0000L)).isEqualTo(1);
        assertThat(ReportLuns.decodeLun(0x00FF_0000_0000_0000L)).isEqualTo(255);
        assertThat(ReportLuns.decodeLun(0x4101_0000_0000_0000L)).isEqualTo(0x101);
        assertThat(ReportLuns.decodeLun(0x0101_0000_0000_0000L)).as("bus 1").isEqualTo(-1);
        assertThat(ReportLuns.decodeLun(0x0001_0001_0000_0000L)).as("second level").isEqualTo(-1);
        assertThat(ReportLuns.decodeLun(0xC000_0000_0000_0000L)).as("extended").isEqualTo(-1);
        for (int n : new int[] {0, 1, 255, 256, 0x3FFF}) {
            assertThat(ReportLuns.decodeLun(ReportLuns.encodeLun(n))).isEqualTo(n);
        }
    }
}
