package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.iscsi.target.CommandObserver;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.testing.Commands;
import dev.virtman.testing.GuestImages;
import dev.virtman.testing.ProjectPaths;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against libvirt itself: the XML validates with libvirt's RNG schema (virt-xml-validate), an
 * unreachable libvirtd is a clear error, and a real guest boots as a libvirtd domain (type
 * 'qemu', TCG) from a qcow2 overlay over VirtMan's iSCSI target, logging in under the VM's own
 * initiator name. libvirtd is started by {@code scripts/libvirtd-up} (by hand where no systemd
 * runs); if it cannot run after {@code scripts/install-deps}, the boot test fails, it does not skip.
 */
@Tag("interop")
class LibvirtVmDriverTest {

    @TempDir
    Path dir;

    @Test
    void domainXmlValidatesAgainstLibvirtsSchema() throws Exception {
        for (Accelerator accel : Accelerator.values()) {
            Path xml = dir.resolve("domain-" + accel + ".xml");
            Files.writeString(xml, LibvirtDomainXmlTest.directKernelXml(accel));
            HostCommand.Result r = HostCommand.runAllowingFailure(List.of("virt-xml-validate", xml.toString(), "domain"),
                    Duration.ofSeconds(60));
            assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void bootsARealGuestAsALibvirtdDomainFromAnOverlayOverIscsi() throws Exception {
        Commands.run(Duration.ofMinutes(1), ProjectPaths.root(),
                List.of(ProjectPaths.root().resolve("scripts/libvirtd-up").toString())).requireSuccess();
        GuestImages guest = GuestImages.build();
        // libvirtd runs QEMU as its own user (libvirt-qemu on Debian): it must reach the VM directory
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        String iqn = "iqn.2026-11.dev.virtman:libvirt-test";
        // when each initiator sent its first command (the agent's FirstReads does this for real VMs)
        Map<String, Instant> firstCommand = new ConcurrentHashMap<>();
        CommandObserver firstReads = (initiator, command) -> firstCommand.putIfAbsent(initiator, Instant.now());
        try (FileBlockDevice image = FileBlockDevice.open(guest.rootfs(), false);
             IscsiTargetServer target = IscsiTargetServer.start(new TargetServerConfig(
                     new InetSocketAddress("127.0.0.1", 0), List.of(new ExportedTarget(iqn,
                     new LunTable(List.of(new ScsiDisk(image, DiskIdentity.fromName(iqn)))), null, Set.of(),
                     firstReads))))) {
            String url = "iscsi://127.0.0.1:" + target.localAddress().getPort() + "/" + iqn + "/0";
            LibvirtVmDriver driver = new LibvirtVmDriver("qemu:///system", dir.resolve("vms"), Accelerator.TCG,
                    Clock.systemUTC());
            String name = "virtman-lvtest-" + ProcessHandle.current().pid();
            VmSpec spec = new VmSpec(name, new BootSource.DirectKernel(guest.kernel(), guest.initrd(),
                    "root=/dev/vda rw console=ttyS0 quiet panic=-1 no_timer_check"), 256, 1,
                    new VmSpec.OverlayDisk(url, OptionalLong.of(Files.size(guest.rootfs()))), GuestImages.UP_MARKER);
            VmHandle vm = driver.create(spec);
            try {
                assertThat(HostCommand.run(List.of("virsh", "-q", "-c", "qemu:///system", "dumpxml", name),
                        Duration.ofSeconds(60))).as("a TCG domain defined in libvirtd").contains("<domain type='qemu'");
                VmState state = driver.boot(vm, Duration.ofMinutes(6));
                String console = Files.exists(vm.serialLog()) ? Files.readString(vm.serialLog()) : "(no serial log)";
                assertThat(state).as(console).isIn(VmState.UP, VmState.STOPPED);
                assertThat(console).contains(GuestImages.UP_LINE_DATA_OK);
                assertThat(vm.timeline().at(VmPhase.GUEST_UP)).isPresent();
                assertThat(Optional.ofNullable(firstCommand.get(spec.initiatorName()))).as("libvirt passed the VM's initiator name to QEMU")
                        .isPresent();
                assertThat(Optional.ofNullable(firstCommand.get(spec.initiatorName())).get())
                        .isAfterOrEqualTo(vm.timeline().at(VmPhase.PROCESS_STARTED).orElseThrow());
            } finally {
                driver.destroy(vm);
            }
            assertThat(HostCommand.runAllowingFailure(List.of("virsh", "-q", "-c", "qemu:///system", "dominfo", name),
                    Duration.ofSeconds(60)).exitCode()).as("undefined").isNotZero();
            assertThat(vm.workDir()).doesNotExist();
        }
    }

    @Test
    void unreachableLibvirtdIsAClearErrorAndLeavesNothingBehind() throws Exception {
        Path raw = dir.resolve("base.raw");
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        String uri = "qemu+unix:///system?socket=" + dir.resolve("no-libvirtd.sock");
        LibvirtVmDriver driver = new LibvirtVmDriver(uri, dir.resolve("vms"), Accelerator.TCG, Clock.systemUTC());
        VmSpec spec = VmSpec.of("lv", new BootSource.DiskBoot(), VmSpec.OverlayDisk.over(raw.toString()));
        assertThatThrownBy(() -> driver.create(spec)).isInstanceOf(VmException.class)
                .hasMessageContaining("cannot define libvirt domain lv")
                .hasMessageContaining(uri)
                .hasMessageContaining("virsh");
        assertThat(dir.resolve("vms/lv")).doesNotExist();
    }
}
