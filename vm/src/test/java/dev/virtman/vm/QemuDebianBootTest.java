package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots the real Debian 12 systemd guest ({@code scripts/build-debian-guest}) under QEMU through
 * {@link QemuVmDriver}, from a qcow2 overlay over the local raw image: up marker, a guest write that
 * must land in the overlay and never in the base image, and a clean ACPI power-down.
 */
@Tag("interop")
class QemuDebianBootTest {

    /** TCG on a shared 2-core host: ~45 s idle, over 2 min under heavy load. */
    static final Duration BOOT_TIMEOUT = Duration.ofSeconds(Long.getLong("virtman.bootTimeoutSeconds", 400));
    static final Duration STOP_GRACE = Duration.ofSeconds(120);
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);
    private static final String WRITTEN_FILE = "/var/lib/virtman/written";

    @TempDir
    Path dir;

    @Test
    void bootsToMultiUserWritesOnlyIntoItsOverlayAndPowersDown() throws Exception {
        DebianGuestImage guest = DebianGuestImage.get();
        String token = "cow-" + System.nanoTime();
        QemuVmDriver driver = new QemuVmDriver(dir.resolve("vms"));
        VmSpec spec = VmSpec.of("debian-local", guest.boot("virtman.write=" + token),
                VmSpec.OverlayDisk.over(guest.image().toString()));
        VmHandle vm = driver.create(spec);
        try {
            VmState state = driver.boot(vm, BOOT_TIMEOUT);
            assertThat(state).as("%s; serial tail: %s", vm, tail(vm.serialLog())).isEqualTo(VmState.UP);

            VmTimeline t = vm.timeline();
            assertThat(t.guestUptimeSeconds()).isPresent();
            assertThat(t.guestUptimeSeconds().getAsDouble()).isPositive();
            Instant overlay = t.at(VmPhase.OVERLAY_CREATED).orElseThrow();
            Instant started = t.at(VmPhase.PROCESS_STARTED).orElseThrow();
            Instant up = t.at(VmPhase.GUEST_UP).orElseThrow();
            assertThat(overlay).isBeforeOrEqualTo(started);
            assertThat(started).isBefore(up);
            // The guest's own uptime cannot exceed what the host saw since launching QEMU.
            assertThat(t.guestUptimeSeconds().getAsDouble())
                    .isLessThanOrEqualTo(Duration.between(started, up).toMillis() / 1000.0 + 1);
            assertThat(Files.readString(vm.serialLog())).contains(GuestMarker.WROTE + " " + token);

            driver.stop(vm, STOP_GRACE);
            assertThat(vm.state()).isEqualTo(VmState.STOPPED);
            assertThat(vm.timeline().at(VmPhase.PROCESS_EXITED)).isPresent();

            // Copy-on-write: the token is in the guest's filesystem as seen through the overlay...
            Path flat = dir.resolve("flat.raw");
            HostCommand.run(List.of("qemu-img", "convert", "-O", "raw", vm.overlay().toString(), flat.toString()), TOOL_TIMEOUT);
            assertThat(debugfsCat(flat)).contains(token);
            Files.delete(flat);
            // ...and not in the shared base image.
            assertThat(debugfsCat(guest.image())).doesNotContain(token);
        } finally {
            driver.destroy(vm);
        }
    }

    /** The file's content via e2fsprogs' debugfs (read-only), or its error text if absent. */
    private static String debugfsCat(final Path ext4Image) {
        HostCommand.Result r = HostCommand.runAllowingFailure(
                List.of("debugfs", "-R", "cat " + WRITTEN_FILE, ext4Image.toString()), TOOL_TIMEOUT);
        return r.stdout() + r.stderr();
    }

    static String tail(final Path log) {
        try {
            String s = Files.readString(log);
            return s.substring(Math.max(0, s.length() - 1500));
        } catch (java.io.IOException e) {
            return "(no serial log)";
        }
    }
}
