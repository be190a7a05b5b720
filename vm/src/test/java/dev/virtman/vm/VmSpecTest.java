package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class VmSpecTest {

    private static final BootSource BOOT = new BootSource.DiskBoot();
    private static final VmSpec.OverlayDisk DISK = VmSpec.OverlayDisk.over("/img.raw");

    @Test
    void validSpecKeepsItsFields() {
        VmSpec s = new VmSpec("web-01.a_b", BOOT, 1024, 4, new VmSpec.OverlayDisk("/img.raw", OptionalLong.of(4096)), "UP");
        assertThat(s.name()).isEqualTo("web-01.a_b");
        assertThat(s.disk().sizeBytes()).hasValue(4096);
        assertThat(VmSpec.of("x", BOOT, DISK).upMarker()).isEqualTo(GuestMarker.UP);
    }

    @Test
    void rejectsNamesThatAreNotSafeDirectoryNames() {
        for (String bad : new String[] {"", "../etc", "a/b", "UPPER", "-lead", "x".repeat(64), "sp ace"}) {
            assertThatThrownBy(() -> VmSpec.of(bad, BOOT, DISK)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void rejectsNonsenseResources() {
        assertThatThrownBy(() -> new VmSpec("a", BOOT, 8, 1, DISK, "UP")).hasMessageContaining("memory");
        assertThatThrownBy(() -> new VmSpec("a", BOOT, 512, 0, DISK, "UP")).hasMessageContaining("vCPUs");
        assertThatThrownBy(() -> new VmSpec("a", BOOT, 512, 1, DISK, " ")).hasMessageContaining("marker");
        assertThatThrownBy(() -> VmSpec.OverlayDisk.over("")).hasMessageContaining("blank");
    }
}
