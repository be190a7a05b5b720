package dev.virtman.vm;

import java.nio.file.Path;
import java.time.Clock;

/** The one place a command picks its VM driver: QEMU processes, or libvirt domains when a URI is given. */
public final class VmDrivers {
    private VmDrivers() {
    }

    /**
     * A driver whose VMs live in {@code vmDir}: libvirt domains through {@code libvirtUri} (for
     * example {@code qemu:///system}) when it is not null, else QEMU processes of our own. Either
     * way KVM only if a probe guest ran under it, else TCG (domain type {@code qemu}).
     */
    public static VmDriver forHost(final Path vmDir, final String libvirtUri) {
        Accelerator accel = KvmProbe.detect().accelerator();
        if (libvirtUri != null) {
            return new LibvirtVmDriver(libvirtUri, vmDir.toAbsolutePath(), accel, Clock.systemUTC());
        }
        return new QemuVmDriver(vmDir, accel, Clock.systemUTC());
    }

    /** "QEMU with tcg" / "libvirt qemu:///system with tcg", for the operator. */
    public static String describe(final VmDriver driver) {
        return switch (driver) {
            case QemuVmDriver q -> "QEMU with " + q.accelerator().qemuName();
            case LibvirtVmDriver l -> "libvirt " + l.connectUri() + " with " + l.accelerator().qemuName();
            default -> driver.getClass().getSimpleName();
        };
    }
}
