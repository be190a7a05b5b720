package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.TgtdProcess;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots the Debian 12 guest from a qcow2 overlay whose backing is the image exported by a real tgtd
 * target, read by QEMU's iSCSI driver (libiscsi): the path VirtMan's VMs take, with tgtd standing
 * in for VirtMan's own target.
 */
@Tag("interop")
class QemuTgtdDebianBootTest {

    private static final String IQN = "iqn.2026-11.dev.virtman:vm-test-debian";

    @TempDir
    Path dir;

    @Test
    void bootsToMultiUserOverIscsi() throws Exception {
        DebianGuestImage guest = DebianGuestImage.get();
        try (TgtdProcess target = TgtdProcess.start(guest.image(), IQN, false)) {
            QemuVmDriver driver = new QemuVmDriver(dir.resolve("vms"));
            VmSpec spec = VmSpec.of("debian-iscsi", guest.boot(""),
                    new VmSpec.OverlayDisk(target.url(), OptionalLong.empty()));
            VmHandle vm = driver.create(spec);
            try {
                assertThat(QcowOverlays.info(vm.overlay()).backingFile()).hasValue(target.url());
                VmState state = driver.boot(vm, QemuDebianBootTest.BOOT_TIMEOUT);
                assertThat(state).as("%s; serial tail: %s", vm, QemuDebianBootTest.tail(vm.serialLog()))
                        .isEqualTo(VmState.UP);
                assertThat(vm.timeline().guestUptimeSeconds()).isPresent();
                driver.stop(vm, QemuDebianBootTest.STOP_GRACE);
                assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            } finally {
                driver.destroy(vm);
            }
        }
    }
}
