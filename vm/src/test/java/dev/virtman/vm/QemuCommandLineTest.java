package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandLineTest {

    private static final VmSpec.OverlayDisk DISK = VmSpec.OverlayDisk.over("iscsi://127.0.0.1:3260/iqn.2026-11.dev.virtman:t/1");

    @Test
    void directKernelBootCarriesKernelInitrdAppendAndOverlay() {
        VmSpec spec = new VmSpec("vm-1", new BootSource.DirectKernel(Path.of("/k/vmlinuz"), Path.of("/k/initrd.img"),
                "root=/dev/vda rw console=ttyS0"), 768, 2, DISK, VmSpec.DEFAULT_UP_MARKER);
        List<String> cmd = QemuCommandLine.build("qemu-system-x86_64", spec, Accelerator.TCG,
                Path.of("/vms/vm-1/disk.qcow2"), Path.of("/vms/vm-1/qmp.sock"), Path.of("/vms/vm-1/qemu.pid"));
        assertThat(cmd.getFirst()).isEqualTo("qemu-system-x86_64");
        assertThat(String.join(" ", cmd)).contains(
                "-name vm-1", "-accel tcg", "-m 768", "-smp 2", "-serial stdio", "-no-reboot", "-nic none",
                "-qmp unix:/vms/vm-1/qmp.sock,server=on,wait=off", "-pidfile /vms/vm-1/qemu.pid",
                "-kernel /k/vmlinuz", "-initrd /k/initrd.img",
                "-drive file=/vms/vm-1/disk.qcow2,if=virtio,format=qcow2");
        // The append string is one argument, spaces and all.
        assertThat(cmd).containsSubsequence("-append", "root=/dev/vda rw console=ttyS0");
    }

    @Test
    void diskBootHasNoKernelAndKvmIsPassedThrough() {
        VmSpec spec = VmSpec.of("d", new BootSource.DiskBoot(), DISK);
        List<String> cmd = QemuCommandLine.build("qemu", spec, Accelerator.KVM, Path.of("/x/d.qcow2"),
                Path.of("/x/q.sock"), Path.of("/x/p"));
        assertThat(cmd).doesNotContain("-kernel", "-initrd", "-append").containsSubsequence("-accel", "kvm");
    }

    @Test
    void vmOverIscsiLogsInUnderItsOwnInitiatorNameAndLocalBaseHasNone() {
        VmSpec remote = VmSpec.of("vm_7", new BootSource.DiskBoot(), DISK);
        assertThat(QemuCommandLine.build("qemu", remote, Accelerator.TCG, Path.of("/x/d.qcow2"), Path.of("/x/q.sock"),
                Path.of("/x/p"))).containsSubsequence("-iscsi", "initiator-name=iqn.2026-11.dev.virtman:vm.vm-7");
        VmSpec local = VmSpec.of("vm-7", new BootSource.DiskBoot(), VmSpec.OverlayDisk.over("/images/base.raw"));
        assertThat(QemuCommandLine.build("qemu", local, Accelerator.TCG, Path.of("/x/d.qcow2"), Path.of("/x/q.sock"),
                Path.of("/x/p"))).doesNotContain("-iscsi");
    }

    @Test
    void commaInOverlayPathIsEscapedForDriveOption() {
        VmSpec spec = VmSpec.of("d", new BootSource.DiskBoot(), DISK);
        List<String> cmd = QemuCommandLine.build("qemu", spec, Accelerator.TCG, Path.of("/a,b/d.qcow2"),
                Path.of("/x/q.sock"), Path.of("/x/p"));
        assertThat(cmd).contains("file=/a,,b/d.qcow2,if=virtio,format=qcow2");
    }

    @Test
    void rejectsQmpSocketPathTooLongForUnixSockets() {
        VmSpec spec = VmSpec.of("d", new BootSource.DiskBoot(), DISK);
        Path longPath = Path.of("/" + "x".repeat(120) + "/qmp.sock");
        assertThatThrownBy(() -> QemuCommandLine.build("qemu", spec, Accelerator.TCG, Path.of("/d.qcow2"), longPath, Path.of("/p")))
                .isInstanceOf(VmException.class).hasMessageContaining("too long");
    }
}
