package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.testing.Await;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's life-cycle and failure paths against real QEMU processes, with guests that need no
 * operating system (a blank disk: the firmware finds nothing to boot), so each test takes seconds.
 */
@Tag("interop")
class QemuVmDriverTest {

    private static final long BLANK_DISK_BYTES = 1L << 20;

    @TempDir
    Path dir;

    private QemuVmDriver driver() {
        return new QemuVmDriver(dir.resolve("vms"), Accelerator.TCG, Clock.systemUTC());
    }

    private VmSpec blankDiskVm(final String name) throws IOException {
        Path raw = dir.resolve(name + ".raw");
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(BLANK_DISK_BYTES);
        }
        return new VmSpec(name, new BootSource.DiskBoot(), 64, 1, VmSpec.OverlayDisk.over(raw.toString()), GuestMarker.UP);
    }

    @Test
    void createMakesWorkDirAndOverlayAndRefusesDuplicates() throws IOException {
        QemuVmDriver driver = driver();
        VmHandle vm = driver.create(blankDiskVm("a"));
        assertThat(vm.state()).isEqualTo(VmState.CREATED);
        assertThat(vm.overlay()).isRegularFile();
        assertThat(QcowOverlays.info(vm.overlay()).backingFormat()).hasValue("raw");
        assertThat(vm.timeline().at(VmPhase.OVERLAY_CREATED)).isPresent();
        assertThat(vm.timeline().at(VmPhase.PROCESS_STARTED)).isEmpty();
        assertThatThrownBy(() -> driver.create(blankDiskVm("a"))).isInstanceOf(VmException.class)
                .hasMessageContaining("already exists");
        driver.stop(vm, Duration.ofSeconds(1)); // never started: just STOPPED
        assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        driver.destroy(vm);
        assertThat(vm.workDir()).doesNotExist();
    }

    @Test
    void failedOverlayLeavesNoWorkDir() {
        QemuVmDriver driver = driver();
        VmSpec spec = VmSpec.of("b", new BootSource.DiskBoot(), VmSpec.OverlayDisk.over(dir.resolve("missing.raw").toString()));
        assertThatThrownBy(() -> driver.create(spec)).isInstanceOf(VmException.class).hasMessageContaining("missing.raw");
        assertThat(dir.resolve("vms/b")).doesNotExist();
    }

    @Test
    void qemuThatCannotLoadTheKernelEndsFailedWithQemusReason() throws Exception {
        QemuVmDriver driver = driver();
        VmSpec blank = blankDiskVm("c");
        VmSpec spec = new VmSpec("c", new BootSource.DirectKernel(dir.resolve("no-vmlinuz"), dir.resolve("no-initrd"), "quiet"),
                64, 1, blank.disk(), GuestMarker.UP);
        VmHandle vm = driver.create(spec);
        try {
            driver.start(vm);
            assertThat(vm.awaitEnd(Duration.ofSeconds(30))).isEqualTo(VmState.FAILED);
            assertThat(vm.failure()).hasValueSatisfying(f -> assertThat(f).contains("QEMU exited").contains("no-vmlinuz"));
            assertThat(vm.timeline().at(VmPhase.PROCESS_EXITED)).isPresent();
        } finally {
            driver.destroy(vm);
        }
    }

    @Test
    void guestThatNeverComesUpIsKilledAtTheBootTimeout() throws Exception {
        QemuVmDriver driver = driver();
        VmHandle vm = driver.create(blankDiskVm("d"));
        try {
            long start = System.nanoTime();
            VmState state = driver.boot(vm, Duration.ofSeconds(3));
            assertThat(state).isEqualTo(VmState.FAILED);
            assertThat(vm.failure()).hasValueSatisfying(f -> assertThat(f).contains("not up within"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
            assertThat(vm.timeline().at(VmPhase.PROCESS_EXITED)).isPresent();
            assertThat(pidOf(vm)).satisfies(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true)));
        } finally {
            driver.destroy(vm);
        }
    }

    /** Issue 18, item 5: a disk with no boot loader fails fast, saying what to pass, not after the full timeout. */
    @Test
    void aDiskThatBootsToSilenceFailsFastSayingWhatItNeeds() throws Exception {
        QemuVmDriver driver = driver();
        VmHandle vm = driver.create(blankDiskVm("s"));
        try {
            VmState state = driver.boot(vm, Duration.ofSeconds(300), Duration.ofSeconds(5));
            assertThat(state).isEqualTo(VmState.FAILED);
            assertThat(vm.failure()).hasValueSatisfying(f -> assertThat(f)
                    .contains("printed nothing").contains("--kernel").contains("--initrd").contains("ttyS0"));
            assertThat(vm.timeline().at(VmPhase.PROCESS_EXITED)).isPresent();
        } finally {
            driver.destroy(vm);
        }
    }

    @Test
    void stopFallsBackToQmpQuitWhenTheGuestIgnoresPowerDown() throws Exception {
        QemuVmDriver driver = driver();
        VmHandle vm = driver.create(blankDiskVm("e"));
        try {
            driver.start(vm);
            assertThat(vm.state()).isEqualTo(VmState.BOOTING);
            Path qmp = vm.workDir().resolve("qmp.sock");
            Await.until(() -> Files.exists(qmp), Duration.ofSeconds(10), "QEMU's QMP socket");
            // Firmware without an OS does not act on ACPI power-down: the driver must quit QEMU itself.
            long start = System.nanoTime();
            driver.stop(vm, Duration.ofSeconds(4));
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            assertThat(vm.failure()).isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
        } finally {
            driver.destroy(vm);
        }
    }

    private static long pidOf(final VmHandle vm) throws IOException {
        return Long.parseLong(Files.readString(vm.workDir().resolve("qemu.pid")).strip());
    }
}
