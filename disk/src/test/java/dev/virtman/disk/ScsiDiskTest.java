package dev.virtman.disk;

import static dev.virtman.disk.Cdbs.cdb;
import static dev.virtman.disk.Cdbs.rw10;
import static dev.virtman.disk.Cdbs.rw12;
import static dev.virtman.disk.Cdbs.rw16;
import static dev.virtman.disk.Cdbs.rw6;
import static dev.virtman.disk.DiskFixture.BLOCK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.BlockLimits;
import dev.virtman.scsi.Cdb10;
import dev.virtman.scsi.Cdb12;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.InquiryCdb;
import dev.virtman.scsi.InquiryData;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScsiDiskTest {
    private static final long BLOCKS = 2048;

    @TempDir
    Path dir;
    DiskFixture rw;

    @BeforeEach
    void setUp() {
        rw = DiskFixture.create(dir, BLOCKS, true);
    }

    @AfterEach
    void tearDown() throws Exception {
        rw.close();
    }

    private static ByteBuffer filled(final int blocks, final int value) {
        byte[] b = new byte[blocks * BLOCK];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    // ---- which commands a target may run on its reader thread ---------------------------------

    @Test
    void onlyInRangeReadsOfALocalFileCompleteWithoutWaiting() {
        assertThat(rw.disk.completesWithoutWaiting(new ScsiCommand(0, rw10(ScsiOpcode.READ_10, 0, 0, 8), 8 * BLOCK, null)))
                .as("READ(10) of a local file").isTrue();
        assertThat(rw.disk.completesWithoutWaiting(new ScsiCommand(0, rw16(ScsiOpcode.READ_16, 0, BLOCKS - 8, 8), 8 * BLOCK,
                null))).as("READ(16) of the last blocks").isTrue();
        assertThat(rw.disk.completesWithoutWaiting(new ScsiCommand(0, rw10(ScsiOpcode.READ_10, 0, BLOCKS - 4, 8), 8 * BLOCK,
                null))).as("past the end: its error is built on a worker").isFalse();
        assertThat(rw.disk.completesWithoutWaiting(new ScsiCommand(0, rw10(ScsiOpcode.READ_10, 0, 0, 0), 0, null)))
                .as("zero blocks").isFalse();
        assertThat(rw.disk.completesWithoutWaiting(new ScsiCommand(0, rw10(ScsiOpcode.WRITE_10, 0, 0, 8), 8 * BLOCK,
                filled(8, 1)))).as("a write").isFalse();
        assertThat(rw.disk.completesWithoutWaiting(new ScsiCommand(0, Cdbs.inquiry(false, 0, 255), 255, null)))
                .as("anything but a read").isFalse();
        assertThat(rw.disk.completesWithoutWaiting(new ScsiCommand(0, ByteBuffer.allocate(0), 0, null))).isFalse();
    }

    // ---- INQUIRY ------------------------------------------------------------------------------

    @Test
    void standardInquiryDescribesAnSpc4DiskWithCommandQueuing() {
        byte[] d = rw.good(Cdbs.inquiry(false, 0, 255));
        assertThat(d).hasSize(InquiryData.STANDARD_LENGTH);
        assertThat(d[0]).isEqualTo((byte) 0x00);
        assertThat(d[2]).isEqualTo((byte) 0x06);
        assertThat(d[3] & 0x0F).isEqualTo(2);
        assertThat(d[4] & 0xFF).isEqualTo(d.length - 5);
        assertThat(d[7] & 0x02).isEqualTo(0x02);
        assertThat(new String(d, 8, 8, StandardCharsets.US_ASCII)).isEqualTo("VIRTMAN ");
        assertThat(new String(d, 16, 16, StandardCharsets.US_ASCII)).isEqualTo("VirtMan disk    ");
        assertThat(ByteBuffer.wrap(d).getShort(62)).isEqualTo((short) 0x0460);
    }

    @Test
    void inquiryIsTruncatedToTheAllocationLength() {
        assertThat(rw.good(Cdbs.inquiry(false, 0, 5))).hasSize(5);
        assertThat(rw.good(Cdbs.inquiry(false, 0, 0))).isEmpty();
        assertThat(rw.good(Cdbs.inquiry(true, 0x83, 6))).hasSize(6);
    }

    @Test
    void inquiryRejectsPageCodeWithoutEvpdAndCmdDtAndUnknownPages() {
        rw.invalidField(Cdbs.inquiry(false, 0x80, 255), InquiryCdb.PAGE_CODE_OFFSET);
        rw.invalidField(cdb(0x12, 0x02, 0, 0, 255, 0), InquiryCdb.FLAGS_OFFSET);
        rw.invalidField(Cdbs.inquiry(true, 0x42, 255), InquiryCdb.PAGE_CODE_OFFSET);
    }

    @Test
    void supportedVpdPagesAreListedInAscendingOrderAndAllAnswer() {
        byte[] d = rw.good(Cdbs.inquiry(true, 0, 255));
        int n = ((d[2] & 0xFF) << 8) | (d[3] & 0xFF);
        assertThat(d).hasSize(4 + n);
        int previous = -1;
        for (int i = 4; i < d.length; i++) {
            int page = d[i] & 0xFF;
            assertThat(page).isGreaterThan(previous);
            previous = page;
            byte[] p = rw.good(Cdbs.inquiry(true, page, 1024));
            assertThat(p[1] & 0xFF).isEqualTo(page);
            assertThat(((p[2] & 0xFF) << 8) | (p[3] & 0xFF)).isEqualTo(p.length - 4);
        }
        assertThat(previous).isEqualTo(0xB2);
    }

    @Test
    void unitSerialNumberAndDesignatorsComeFromTheIdentity() {
        DiskIdentity id = rw.disk.identity();
        byte[] serial = rw.good(Cdbs.inquiry(true, 0x80, 255));
        assertThat(new String(serial, 4, serial.length - 4, StandardCharsets.US_ASCII)).isEqualTo(id.serialNumber());

        byte[] d = rw.good(Cdbs.inquiry(true, 0x83, 255));
        ByteBuffer b = ByteBuffer.wrap(d);
        // First designator: binary NAA, LU association, 8 bytes, locally assigned (3h).
        assertThat(d[4] & 0x0F).isEqualTo(1);
        assertThat(d[5] & 0x3F).isEqualTo(0x03);
        assertThat(d[7]).isEqualTo((byte) 8);
        assertThat(b.getLong(8)).isEqualTo(id.naa());
        assertThat(d[8] >>> 4 & 0x0F).isEqualTo(3);
        // Second: EUI-64; third: T10 vendor id starting with the vendor.
        assertThat(d[17] & 0x0F).isEqualTo(0x02);
        assertThat(b.getLong(20)).isEqualTo(id.eui64());
        assertThat(d[29] & 0x0F).isEqualTo(0x01);
        assertThat(new String(d, 32, 8, StandardCharsets.US_ASCII)).isEqualTo("VIRTMAN ");
        // No target-port designators (association 01b) are invented here.
        for (int at = 4; at < d.length; at += 4 + (d[at + 3] & 0xFF)) {
            assertThat((d[at + 1] >>> 4) & 0x3).isZero();
        }
    }

    @Test
    void blockLimitsBoundTheTransferLength() {
        byte[] d = rw.good(Cdbs.inquiry(true, 0xB0, 255));
        ByteBuffer b = ByteBuffer.wrap(d);
        assertThat(d).hasSize(64);
        assertThat(b.getInt(8)).isEqualTo(BlockLimits.MAX_TRANSFER_BYTES / BLOCK);
        assertThat(b.getInt(20)).isZero();
        assertThat(d[4] & 1).as("WSNZ").isEqualTo(1);
        byte[] c = rw.good(Cdbs.inquiry(true, 0xB1, 255));
        assertThat(ByteBuffer.wrap(c).getShort(4)).as("non-rotating").isEqualTo((short) 1);
        byte[] p = rw.good(Cdbs.inquiry(true, 0xB2, 255));
        assertThat(p[5] & 0xE0).as("LBPU/LBPWS/LBPWS10").isZero();
    }

    // ---- capacity -------------------------------------------------------------------------------

    @Test
    void readCapacity10ReportsLastLbaAndBlockSize() {
        ByteBuffer d = ByteBuffer.wrap(rw.good(cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
        assertThat(d.getInt(0)).isEqualTo((int) BLOCKS - 1);
        assertThat(d.getInt(4)).isEqualTo(BLOCK);
        rw.invalidField(cdb(0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0), 2);
    }

    @Test
    void readCapacity16ReportsLastLbaAndHonoursAllocationLength() {
        ByteBuffer d = ByteBuffer.wrap(rw.good(Cdbs.readCapacity16(32)));
        assertThat(d.getLong(0)).isEqualTo(BLOCKS - 1);
        assertThat(d.getInt(8)).isEqualTo(BLOCK);
        assertThat(d.get(14) & 0x80).as("LBPME").isZero();
        assertThat(rw.good(Cdbs.readCapacity16(12))).hasSize(12);
        assertThat(rw.good(Cdbs.readCapacity16(0))).isEmpty();
    }

    @Test
    void unknownServiceActionIsAnInvalidField() {
        rw.invalidField(cdb(0x9E, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), 1);
    }

    // ---- READ / WRITE ---------------------------------------------------------------------------

    @Test
    void readReturnsTheBlocksOfEveryCdbSize() {
        byte[] d10 = rw.good(rw10(ScsiOpcode.READ_10, 0, 5, 3));
        assertThat(d10).hasSize(3 * BLOCK);
        assertThat(d10[0]).isEqualTo((byte) 5);
        assertThat(d10[3 * BLOCK - 1]).isEqualTo((byte) 7);
        assertThat(rw.good(rw6(ScsiOpcode.READ_6, 300, 2))[0]).isEqualTo((byte) 300);
        assertThat(rw.good(rw12(ScsiOpcode.READ_12, 0, 1000, 1))[0]).isEqualTo((byte) 1000);
        assertThat(rw.good(rw16(ScsiOpcode.READ_16, 0x18, BLOCKS - 1, 1))[BLOCK - 1]).isEqualTo((byte) (BLOCKS - 1));
    }

    @Test
    void read6WithZeroLengthTransfers256BlocksAndOthersNothing() {
        assertThat(rw.good(rw6(ScsiOpcode.READ_6, 0, 0))).hasSize(256 * BLOCK);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 0, 0))).isEmpty();
        assertThat(rw.good(rw16(ScsiOpcode.READ_16, 0, BLOCKS, 0))).isEmpty();
        rw.check(rw16(ScsiOpcode.READ_16, 0, BLOCKS + 1, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
    }

    @Test
    void outOfRangeReadsAtTheEdgesIncludingLbaPlusLengthOverflow() {
        rw.good(rw10(ScsiOpcode.READ_10, 0, BLOCKS - 1, 1));
        rw.good(rw10(ScsiOpcode.READ_10, 0, BLOCKS - 16, 16));
        var oob = AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE;
        rw.check(rw10(ScsiOpcode.READ_10, 0, BLOCKS, 1), SenseKey.ILLEGAL_REQUEST, oob);
        rw.check(rw10(ScsiOpcode.READ_10, 0, BLOCKS - 1, 2), SenseKey.ILLEGAL_REQUEST, oob);
        rw.check(rw10(ScsiOpcode.READ_10, 0, 0xFFFF_FFFFL, 1), SenseKey.ILLEGAL_REQUEST, oob);
        rw.check(rw16(ScsiOpcode.READ_16, 0, -1L, 1), SenseKey.ILLEGAL_REQUEST, oob);
        rw.check(rw16(ScsiOpcode.READ_16, 0, Long.MAX_VALUE, 2), SenseKey.ILLEGAL_REQUEST, oob);
        rw.check(rw16(ScsiOpcode.READ_16, 0, 1, 0xFFFF_FFFFL), SenseKey.ILLEGAL_REQUEST, oob);
        rw.check(rw6(ScsiOpcode.READ_6, (int) BLOCKS - 1, 2), SenseKey.ILLEGAL_REQUEST, oob);
    }

    @Test
    void transfersAboveTheMaximumTransferLengthAreRefusedBeforeAllocating() throws Exception {
        try (DiskFixture big = DiskFixture.create(dir, 16384, false)) {
            int max = BlockLimits.MAX_TRANSFER_BYTES / BLOCK;
            big.good(rw10(ScsiOpcode.READ_10, 0, 0, max));
            big.invalidField(rw12(ScsiOpcode.READ_12, 0, 0, max + 1), Cdb12.TRANSFER_LENGTH_OFFSET);
        }
    }

    @Test
    void protectionFieldsAreRefused() {
        rw.invalidField(rw10(ScsiOpcode.READ_10, 0x20, 0, 1), 1);
        rw.invalidField(rw16(ScsiOpcode.READ_16, 0xE0, 0, 1), 1);
        rw.invalidField(rw12(ScsiOpcode.WRITE_12, 0x40, 0, 1), 1);
    }

    @Test
    void nacaInTheControlByteIsAnInvalidField() {
        rw.invalidField(cdb(0x00, 0, 0, 0, 0, 0x04), 5);
        ByteBuffer read16 = rw16(ScsiOpcode.READ_16, 0, 0, 1);
        read16.put(15, (byte) 0x04);
        rw.invalidField(read16, 15);
    }

    @Test
    void writeThenReadRoundTripsForEverySizeWithFua() throws Exception {
        rw.good(rw10(ScsiOpcode.WRITE_10, 0x08, 10, 2), filled(2, 0xA1));
        rw.good(rw6(ScsiOpcode.WRITE_6, 20, 1), filled(1, 0xA2));
        rw.good(rw12(ScsiOpcode.WRITE_12, 0x10, 30, 1), filled(1, 0xA3));
        rw.good(rw16(ScsiOpcode.WRITE_16, 0, BLOCKS - 1, 1), filled(1, 0xA4));
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 10, 2))).containsOnly((byte) 0xA1);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 20, 1))).containsOnly((byte) 0xA2);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 30, 1))).containsOnly((byte) 0xA3);
        assertThat(rw.good(rw16(ScsiOpcode.READ_16, 0, BLOCKS - 1, 1))).containsOnly((byte) 0xA4);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 12, 1))).containsOnly((byte) 12);
    }

    @Test
    void shortDataOutWritesTheWholeBlocksThatArrivedAndNeverReadsPastTheBuffer() {
        // RFC 7143 §11.4.5.1 / FCP-4: EDTL of one block for a two-block WRITE writes one block.
        rw.good(rw10(ScsiOpcode.WRITE_10, 0, 4, 2), filled(1, 0xEE));
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 4, 1))).containsOnly((byte) 0xEE);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 5, 1))).containsOnly((byte) 5);
        // No data at all: nothing written, still GOOD.
        rw.good(rw10(ScsiOpcode.WRITE_10, 0, 6, 1), null);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 6, 1))).containsOnly((byte) 6);
        // Part of a block cannot be written.
        rw.check(rw10(ScsiOpcode.WRITE_10, 0, 7, 1), ByteBuffer.allocate(200), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_INFORMATION_UNIT);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 7, 1))).containsOnly((byte) 7);
        // Commands that need all their data still refuse a short buffer.
        rw.check(rw10(ScsiOpcode.VERIFY_10, 0x02, 7, 2), filled(1, 7), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_INFORMATION_UNIT);
        rw.check(rw16(ScsiOpcode.ORWRITE_16, 0, 7, 2), filled(1, 7), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_INFORMATION_UNIT);
    }

    @Test
    void longerDataOutWritesOnlyWhatTheCdbSays() {
        rw.good(rw10(ScsiOpcode.WRITE_10, 0, 4, 1), filled(3, 0xEE));
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 5, 1))).containsOnly((byte) 5);
    }

    @Test
    void writesOutsideTheDeviceAreOutOfRange() {
        rw.check(rw16(ScsiOpcode.WRITE_16, 0, BLOCKS, 1), filled(1, 1), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
    }

    // ---- read-only ----------------------------------------------------------------------------

    @Test
    void readOnlyDiskRefusesEveryWriteAndReportsWp() throws Exception {
        try (DiskFixture ro = DiskFixture.create(dir, 64, false)) {
            var wp = AdditionalSense.WRITE_PROTECTED;
            ro.check(rw10(ScsiOpcode.WRITE_10, 0, 0, 1), filled(1, 1), SenseKey.DATA_PROTECT, wp);
            ro.check(rw16(ScsiOpcode.WRITE_AND_VERIFY_16, 0, 0, 1), filled(1, 1), SenseKey.DATA_PROTECT, wp);
            ro.check(rw10(ScsiOpcode.WRITE_SAME_10, 0, 0, 1), filled(1, 1), SenseKey.DATA_PROTECT, wp);
            ro.check(Cdbs.compareAndWrite(0, 1), filled(2, 0), SenseKey.DATA_PROTECT, wp);
            ro.check(rw16(ScsiOpcode.WRITE_SAME_16, 0x08, 0, 1), null, SenseKey.DATA_PROTECT, wp);
            ro.check(rw16(ScsiOpcode.ORWRITE_16, 0, 0, 1), filled(1, 1), SenseKey.DATA_PROTECT, wp);
            assertThat(ro.good(Cdbs.modeSense6(0, 0x3F, 0, 255))[2] & 0x80).isEqualTo(0x80);
            // Range and zero-length come before protection.
            ro.check(rw10(ScsiOpcode.WRITE_10, 0, 64, 1), filled(1, 1), SenseKey.ILLEGAL_REQUEST,
                    AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
            ro.good(rw10(ScsiOpcode.WRITE_10, 0, 0, 0), null);
            ro.invalidField(rw10(ScsiOpcode.WRITE_SAME_10, 0, 0, 0), Cdb10.TRANSFER_LENGTH_OFFSET);
            assertThat(ro.good(rw10(ScsiOpcode.READ_10, 0, 0, 1))).containsOnly((byte) 0);
            ro.good(cdb(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        }
    }

    @Test
    void identityCanForceReadOnlyOverAWritableDevice() throws Exception {
        DiskIdentity id = DiskIdentity.fromName("x").withForcedReadOnly(true);
        try (DiskFixture ro = DiskFixture.create(dir, 64, true, id)) {
            assertThat(ro.disk.isWritable()).isFalse();
            ro.check(rw10(ScsiOpcode.WRITE_10, 0, 0, 1), filled(1, 1), SenseKey.DATA_PROTECT,
                    AdditionalSense.WRITE_PROTECTED);
        }
    }

    // ---- VERIFY / COMPARE AND WRITE / WRITE SAME ----------------------------------------------

    @Test
    void verifyChecksTheRangeAndComparesWithBytchk() {
        rw.good(rw10(ScsiOpcode.VERIFY_10, 0, 7, 1));
        rw.check(rw16(ScsiOpcode.VERIFY_16, 0, BLOCKS, 1), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
        rw.good(rw12(ScsiOpcode.VERIFY_12, 0x02, 7, 1), filled(1, 7));
        byte[] data = filled(2, 7).array();
        Arrays.fill(data, BLOCK, 2 * BLOCK, (byte) 8);
        data[BLOCK + 3] = 9;
        byte[] s = rw.check(rw10(ScsiOpcode.VERIFY_10, 0x02, 7, 2), ByteBuffer.wrap(data), SenseKey.MISCOMPARE,
                AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION);
        assertThat(s[1 - 1] & 0x80).as("VALID").isEqualTo(0x80);
        assertThat(ByteBuffer.wrap(s).getInt(3)).isEqualTo(BLOCK + 3);
        // BYTCHK 11b: one block compared with every block of the range.
        rw.good(rw10(ScsiOpcode.WRITE_10, 0, 40, 3), filled(3, 0x55));
        rw.good(rw16(ScsiOpcode.VERIFY_16, 0x06, 40, 3), filled(1, 0x55));
        rw.check(rw16(ScsiOpcode.VERIFY_16, 0x06, 40, 4), filled(1, 0x55), SenseKey.MISCOMPARE,
                AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION);
        rw.invalidField(rw10(ScsiOpcode.VERIFY_10, 0x04, 7, 1), 1);
        rw.invalidField(rw10(ScsiOpcode.VERIFY_10, 0x20, 7, 1), 1);
    }

    @Test
    void compareAndWriteWritesOnlyOnMatch() {
        ByteBuffer both = ByteBuffer.allocate(2 * BLOCK);
        Arrays.fill(both.array(), 0, BLOCK, (byte) 3);
        Arrays.fill(both.array(), BLOCK, 2 * BLOCK, (byte) 0x77);
        rw.good(Cdbs.compareAndWrite(3, 1), both);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 3, 1))).containsOnly((byte) 0x77);
        // Medium is now 0x77, verify data 3 no longer matches.
        byte[] s = rw.check(Cdbs.compareAndWrite(3, 1), both, SenseKey.MISCOMPARE,
                AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION);
        assertThat(ByteBuffer.wrap(s).getInt(3)).isZero();
        rw.invalidField(Cdbs.compareAndWrite(3, 1), filled(1, 0x77), 13);
        rw.check(Cdbs.compareAndWrite(BLOCKS - 1, 2), filled(4, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
    }

    @Test
    void writeSameRepeatsOneBlockAndRefusesZeroBlocksAndUnmap() {
        rw.good(rw16(ScsiOpcode.WRITE_SAME_16, 0, 100, 700), filled(1, 0x42));
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 100, 700))).containsOnly((byte) 0x42);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 800, 1))).containsOnly((byte) (800 & 0xFF));
        rw.good(rw16(ScsiOpcode.WRITE_SAME_16, 0x01, 100, 2), null);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 100, 2))).containsOnly((byte) 0);
        rw.invalidField(rw10(ScsiOpcode.WRITE_SAME_10, 0, 0, 0), Cdb10.TRANSFER_LENGTH_OFFSET);
        rw.invalidField(rw10(ScsiOpcode.WRITE_SAME_10, 0x08, 0, 1), 1);
        rw.check(rw10(ScsiOpcode.WRITE_SAME_10, 0, BLOCKS - 1, 2), filled(1, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
    }

    // ---- MODE SENSE / MODE SELECT -----------------------------------------------------------

    @Test
    void modeSense6AllPagesHasHeaderDescriptorAndPagesInOrder() {
        byte[] d = rw.good(Cdbs.modeSense6(0, 0x3F, 0, 255));
        assertThat(d[0] & 0xFF).isEqualTo(d.length - 1);
        assertThat(d[2] & 0x80).as("WP").isZero();
        assertThat(d[2] & 0x10).as("DPOFUA").isEqualTo(0x10);
        assertThat(d[3]).isEqualTo((byte) 8);
        assertThat(ByteBuffer.wrap(d).getInt(4)).isEqualTo((int) BLOCKS);
        assertThat(ByteBuffer.wrap(d).getInt(8) & 0xFFFFFF).isEqualTo(BLOCK);
        int at = 12;
        int[] expected = {0x08, 0x0A, 0x1C};
        for (int page : expected) {
            assertThat(d[at] & 0x3F).isEqualTo(page);
            at += 2 + (d[at + 1] & 0xFF);
        }
        assertThat(at).isEqualTo(d.length);
    }

    @Test
    void modeSenseDbdLongLbaPageControlAndTruncation() {
        byte[] d = rw.good(Cdbs.modeSense6(0x08, 0x08, 0, 255));
        assertThat(d[3]).isZero();
        assertThat(d[4] & 0x3F).isEqualTo(0x08);
        assertThat(d[6] & 0x04).as("WCE").isEqualTo(0x04);
        byte[] changeable = rw.good(Cdbs.modeSense6(0x08, 0x40 | 0x08, 0, 255));
        assertThat(Arrays.copyOfRange(changeable, 6, changeable.length)).containsOnly((byte) 0);
        byte[] ten = rw.good(Cdbs.modeSense10(0x10, 0x0A, 0, 512));
        assertThat(ByteBuffer.wrap(ten).getShort(0)).isEqualTo((short) (ten.length - 2));
        assertThat(ten[4] & 1).as("LONGLBA").isEqualTo(1);
        assertThat(ByteBuffer.wrap(ten).getShort(6)).isEqualTo((short) 16);
        assertThat(ByteBuffer.wrap(ten).getLong(8)).isEqualTo(BLOCKS);
        assertThat(ten[24] & 0x3F).isEqualTo(0x0A);
        assertThat(rw.good(Cdbs.modeSense6(0, 0x3F, 0, 4))).hasSize(4);
        rw.check(Cdbs.modeSense6(0, 0xC0 | 0x3F, 0, 255), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.SAVING_PARAMETERS_NOT_SUPPORTED);
        rw.invalidField(Cdbs.modeSense6(0, 0x19, 0, 255), 2);
        rw.invalidField(Cdbs.modeSense6(0, 0x0A, 0x01, 255), 3);
        assertThat(rw.good(Cdbs.modeSense6(0, 0x3F, 0xFF, 255))).hasSize(d.length + 8 + 12 + 12);
    }

    @Test
    void modeSelectAcceptsTheCurrentValuesAndRefusesChanges() {
        byte[] current = rw.good(Cdbs.modeSense6(0x08, 0x0A, 0, 255));
        current[0] = 0;
        current[2] = 0;
        ByteBuffer select = cdb(0x15, 0x10, 0, 0, current.length, 0);
        rw.good(select, ByteBuffer.wrap(current));
        byte[] changed = current.clone();
        changed[4 + 4] |= 0x08;
        byte[] s = rw.check(select, ByteBuffer.wrap(changed), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_FIELD_IN_PARAMETER_LIST);
        assertThat(s[15] & 0xC0).isEqualTo(0x80);
        assertThat(s[17]).isEqualTo((byte) 8);
        rw.invalidField(cdb(0x15, 0x11, 0, 0, current.length, 0), 1);
        rw.check(select, ByteBuffer.wrap(current, 0, 2), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
    }

    // ---- other commands -------------------------------------------------------------------

    @Test
    void simpleCommandsSucceed() {
        rw.good(cdb(0x00, 0, 0, 0, 0, 0));
        rw.good(cdb(0x1B, 0, 0, 0, 1, 0));
        rw.good(cdb(0x1E, 0, 0, 0, 1, 0));
        rw.good(cdb(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        rw.good(rw16(ScsiOpcode.SYNCHRONIZE_CACHE_16, 0, 0, BLOCKS));
        rw.check(rw16(ScsiOpcode.SYNCHRONIZE_CACHE_16, 0, BLOCKS - 1, 2), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
        rw.good(rw10(ScsiOpcode.PRE_FETCH_10, 0, 0, 8));
    }

    @Test
    void requestSenseReportsNoSenseInFixedOrDescriptorFormat() {
        byte[] fixed = rw.good(cdb(0x03, 0, 0, 0, 252, 0));
        assertThat(fixed).hasSize(18);
        assertThat(fixed[0]).isEqualTo((byte) 0x70);
        assertThat(fixed[2]).isZero();
        assertThat(rw.good(cdb(0x03, 0, 0, 0, 8, 0))).hasSize(8);
        assertThat(rw.good(cdb(0x03, 1, 0, 0, 252, 0))[0]).isEqualTo((byte) 0x72);
    }

    @Test
    void unknownOpcodesAreInvalidCommandOperationCodes() {
        for (int op : new int[] {0x42, 0xFF, 0x7F, 0x04, 0x5E, 0x83}) {
            rw.check(cdb(op, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), SenseKey.ILLEGAL_REQUEST,
                    AdditionalSense.INVALID_COMMAND_OPERATION_CODE);
        }
        rw.check(ByteBuffer.allocate(0), SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_COMMAND_OPERATION_CODE);
    }

    @Test
    void getLbaStatusReportsEverythingMapped() {
        ByteBuffer c = rw16(ScsiOpcode.SERVICE_ACTION_IN_16, 0, 10, 64);
        c.put(1, (byte) ScsiOpcode.SA_GET_LBA_STATUS);
        ByteBuffer d = ByteBuffer.wrap(rw.good(c));
        assertThat(d.getInt(0)).isEqualTo(20);
        assertThat(d.getLong(8)).isEqualTo(10);
        assertThat(d.getInt(16)).isEqualTo((int) BLOCKS - 10);
        c.putLong(2, BLOCKS);
        rw.check(c, SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
    }

    @Test
    void ioErrorsBecomeMediumErrors() throws Exception {
        rw.device.close();
        rw.check(rw10(ScsiOpcode.READ_10, 0, 0, 1), SenseKey.MEDIUM_ERROR, AdditionalSense.UNRECOVERED_READ_ERROR);
        rw.check(rw10(ScsiOpcode.WRITE_10, 0, 0, 1), filled(1, 0), SenseKey.MEDIUM_ERROR,
                AdditionalSense.WRITE_ERROR);
    }

    @Test
    void orWriteOrsTheDataIntoTheMedium() {
        rw.good(rw10(ScsiOpcode.WRITE_10, 0, 50, 2), filled(2, 0x0F));
        rw.good(rw16(ScsiOpcode.ORWRITE_16, 0, 50, 2), filled(2, 0xA0));
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 50, 2))).containsOnly((byte) 0xAF);
        rw.good(rw16(ScsiOpcode.ORWRITE_16, 0, 50, 0), null);
        rw.invalidField(rw16(ScsiOpcode.ORWRITE_16, 0x20, 50, 1), 1);
        rw.check(rw16(ScsiOpcode.ORWRITE_16, 0, BLOCKS, 1), filled(1, 0), SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
    }

    @Test
    void compareAndWriteRefusesADataOutOfTheWrongSize() {
        rw.invalidField(Cdbs.compareAndWrite(3, 1), filled(4, 3), 13);
        // 256 blocks do not fit the one-byte field: it wraps to 0, yet 512 blocks of data arrive.
        rw.invalidField(Cdbs.compareAndWrite(3, 0), filled(512, 3), 13);
        rw.good(Cdbs.compareAndWrite(3, 0), null);
        assertThat(rw.good(rw10(ScsiOpcode.READ_10, 0, 3, 1))).containsOnly((byte) 3);
    }

    @Test
    void responsesSayHowMuchDataOutTheCdbAskedFor() {
        assertThat(rw.run(rw10(ScsiOpcode.WRITE_10, 0, 0, 3), filled(3, 0)).dataOutTransferLength())
                .isEqualTo(3L * BLOCK);
        assertThat(rw.run(rw10(ScsiOpcode.WRITE_10, 0, 0, 3), ByteBuffer.allocate(100)).dataOutTransferLength())
                .as("also on CHECK CONDITION").isEqualTo(3L * BLOCK);
        assertThat(rw.run(rw6(ScsiOpcode.WRITE_6, 0, 0), filled(256, 0)).dataOutTransferLength())
                .isEqualTo(256L * BLOCK);
        assertThat(rw.run(Cdbs.compareAndWrite(0, 2), filled(4, 0)).dataOutTransferLength()).isEqualTo(4L * BLOCK);
        assertThat(rw.run(rw16(ScsiOpcode.WRITE_SAME_16, 0, 0, 9), filled(1, 0)).dataOutTransferLength())
                .isEqualTo(BLOCK);
        assertThat(rw.run(rw10(ScsiOpcode.VERIFY_10, 0, 0, 2)).dataOutTransferLength()).isEqualTo(-1);
        assertThat(rw.run(rw10(ScsiOpcode.VERIFY_10, 0x02, 0, 2), filled(2, 0)).dataOutTransferLength())
                .isEqualTo(2L * BLOCK);
        assertThat(rw.run(rw10(ScsiOpcode.READ_10, 0, 0, 2)).dataOutTransferLength()).isEqualTo(-1);
    }
}
