package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.TgtdProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots the small busybox test guest ({@code scripts/build-guest}) through {@link QemuVmDriver}
 * from an overlay whose backing is a real tgtd LUN. The guest hashes a 24 MiB blob read through
 * the virtio disk (so every byte crossed QEMU's iSCSI driver), prints its marker, and powers itself
 * off: the driver must report UP and then STOPPED, not FAILED.
 */
@Tag("interop")
class QemuBusyboxGuestBootTest {

    private static final String IQN = "iqn.2026-11.dev.virtman:vm-test-busybox";
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(240);

    @TempDir
    Path dir;

    @Test
    void bootsFromTgtdOverIscsiReadsCorrectDataAndPowersOff() throws Exception {
        Path guest = Path.of(System.getProperty("virtman.busyboxGuest", "work/guest")).toAbsolutePath();
        HostCommand.run(List.of("scripts/build-guest", guest.toString()), BUILD_TIMEOUT); // idempotent
        Path image = guest.resolve("rootfs.raw");
        try (TgtdProcess target = TgtdProcess.start(image, IQN, false)) {
            QemuVmDriver driver = new QemuVmDriver(dir.resolve("vms"));
            // no_timer_check: on a loaded host TCG is slow enough for the kernel's IO-APIC timer
            // check to fail and panic; the check is meaningless in a VM.
            VmSpec spec = new VmSpec("busybox", new BootSource.DirectKernel(guest.resolve("vmlinuz"), guest.resolve("initrd.img"),
                    "root=/dev/vda rw console=ttyS0 quiet panic=-1 no_timer_check"), 256, 1,
                    new VmSpec.OverlayDisk(target.url(), OptionalLong.of(Files.size(image))), GuestMarker.UP);
            VmHandle vm = driver.create(spec);
            try {
                VmState state = driver.boot(vm, BOOT_TIMEOUT);
                assertThat(state).as("%s; serial: %s", vm, QemuDebianBootTest.tail(vm.serialLog()))
                        .isIn(VmState.UP, VmState.STOPPED);
                assertThat(vm.awaitEnd(Duration.ofSeconds(60))).isEqualTo(VmState.STOPPED);
                assertThat(vm.failure()).isEmpty();
                String console = Files.readString(vm.serialLog());
                assertThat(console).contains("VIRTMAN-GUEST-UP data=ok").contains("VIRTMAN-GUEST-DONE");
                assertThat(vm.timeline().at(VmPhase.GUEST_UP)).isPresent();
                // This guest's marker has no uptime field.
                assertThat(vm.timeline().guestUptimeSeconds()).isEmpty();
                // Its writes went to the overlay: it grew beyond an empty qcow2's few hundred KiB.
                assertThat(Files.size(vm.overlay())).isGreaterThan(1L << 20);
            } finally {
                driver.destroy(vm);
            }
        }
    }
}
