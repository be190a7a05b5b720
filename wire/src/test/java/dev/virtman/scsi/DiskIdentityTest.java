package dev.virtman.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DiskIdentityTest {
    @Test
    void theSameNameAlwaysGivesTheSameIdentity() {
        assertThat(DiskIdentity.fromName("iqn.a:b/1")).isEqualTo(DiskIdentity.fromName("iqn.a:b/1"));
        assertThat(DiskIdentity.fromName("iqn.a:b/1").naa()).isNotEqualTo(DiskIdentity.fromName("iqn.a:b/2").naa());
    }

    @Test
    void designatorsAreLocallyAssigned() {
        DiskIdentity id = DiskIdentity.fromName("image-1234");
        assertThat(id.naa() >>> 60).isEqualTo(3);
        assertThat((id.eui64() >>> 56) & 0x03).isEqualTo(0x02);
        assertThat(id.serialNumber()).matches("[0-9a-f]{20}");
        assertThat(id.vendor()).isEqualTo("VIRTMAN");
        assertThat(id.forcedReadOnly()).isFalse();
        assertThat(id.withForcedReadOnly(true).forcedReadOnly()).isTrue();
    }

    @Test
    void fieldsMustFitAndBePrintable() {
        assertThatThrownBy(() -> new DiskIdentity("TOOLONGVENDOR", "p", "1", "s", 0, 0, false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DiskIdentity("V", "p", "1", "s\n", 0, 0, false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DiskIdentity("V", "p", "1", " ", 0, 0, false))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
