package dev.virtman.vm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code qemu-system-x86_64} argument list for one VM. Kept apart from process handling so the
 * exact command is visible (and tested) on its own.
 *
 * <ul>
 *   <li>serial console on stdio: the driver reads the guest's console from QEMU's stdout, copies it
 *       to the VM's serial log and watches it for the up marker;</li>
 *   <li>no display, no monitor, no NIC: the VMs under test need none, and QEMU's default NIC would
 *       need a ROM and slow boot;</li>
 *   <li>{@code -no-reboot}: a guest that reboots or powers off ends the process, so a crashed
 *       guest is seen as an exit instead of a boot loop;</li>
 *   <li>QMP on a Unix socket in the VM's directory, for a clean {@code system_powerdown}/{@code quit};</li>
 *   <li>over an {@code iscsi://} base, {@code -iscsi initiator-name=} with the VM's own name, so the
 *       agent can tell when this VM first read its disk.</li>
 * </ul>
 */
public final class QemuCommandLine {

    /** Linux's limit for a Unix socket path (sun_path is 108 bytes including the NUL). */
    static final int MAX_UNIX_SOCKET_PATH = 107;

    private QemuCommandLine() {
    }

    /** The full command for {@code spec} with its disk at {@code overlay}. */
    public static List<String> build(final String qemuBinary, final VmSpec spec, final Accelerator accel,
                                     final Path overlay, final Path qmpSocket, final Path pidFile) {
        if (qmpSocket.toString().length() > MAX_UNIX_SOCKET_PATH) {
            throw new VmException("QMP socket path too long for a Unix socket (" + qmpSocket.toString().length()
                    + " > " + MAX_UNIX_SOCKET_PATH + "): " + qmpSocket + "; use a shorter VM directory");
        }
        List<String> cmd = new ArrayList<>(List.of(qemuBinary,
                "-name", spec.name(),
                "-accel", accel.qemuName(),
                "-m", Integer.toString(spec.memoryMiB()),
                "-smp", Integer.toString(spec.vcpus()),
                "-display", "none",
                "-monitor", "none",
                "-serial", "stdio",
                "-no-reboot",
                "-nic", "none",
                "-qmp", "unix:" + qmpSocket + ",server=on,wait=off",
                "-pidfile", pidFile.toString()));
        if (spec.boot() instanceof BootSource.DirectKernel k) {
            cmd.addAll(List.of("-kernel", k.kernel().toString(), "-initrd", k.initrd().toString(), "-append", k.append()));
        }
        if (spec.overIscsi()) {
            // QEMU's iSCSI driver (libiscsi) takes its InitiatorName from the -iscsi option group,
            // also for a backing file named in the overlay's header.
            cmd.addAll(List.of("-iscsi", "initiator-name=" + spec.initiatorName()));
        }
        // QEMU's -drive option list uses ',' as separator; a ',' in the path is written ',,'.
        cmd.addAll(List.of("-drive", "file=" + overlay.toString().replace(",", ",,") + ",if=virtio,format=qcow2"));
        return List.copyOf(cmd);
    }
}
