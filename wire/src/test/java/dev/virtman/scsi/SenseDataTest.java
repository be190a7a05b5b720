package dev.virtman.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SenseDataTest {
    @Test
    void fixedFormatWithFieldPointer() {
        byte[] b = SenseData.invalidFieldInCdb(0x102, 5).toBytes();
        assertThat(b).hasSize(18);
        assertThat(b[0]).isEqualTo((byte) 0x70);
        assertThat(b[2]).isEqualTo((byte) 0x05);
        assertThat(b[7]).isEqualTo((byte) 10);
        assertThat(b[12]).isEqualTo((byte) 0x24);
        assertThat(b[13]).isZero();
        assertThat(b[15]).isEqualTo((byte) (0x80 | 0x40 | 0x08 | 5));
        assertThat(b[16]).isEqualTo((byte) 0x01);
        assertThat(b[17]).isEqualTo((byte) 0x02);
    }

    @Test
    void informationSetsValid() {
        byte[] b = SenseData.of(SenseKey.MISCOMPARE, AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION)
                .withInformation(0x01020304L).toBytes();
        assertThat(b[0]).isEqualTo((byte) 0xF0);
        assertThat(b[2]).isEqualTo((byte) 0x0E);
        assertThat(new byte[] {b[3], b[4], b[5], b[6]}).containsExactly(1, 2, 3, 4);
        assertThat(b[15]).isZero();
    }

    @Test
    void parameterListPointerHasCdClearAndNoBitPointer() {
        byte[] b = SenseData.invalidFieldInParameterList(9, -1).toBytes();
        assertThat(b[15]).isEqualTo((byte) 0x80);
        assertThat(b[17]).isEqualTo((byte) 9);
    }
}
