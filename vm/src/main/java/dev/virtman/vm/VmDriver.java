package dev.virtman.vm;

import java.time.Duration;

/**
 * Runs VMs on one host: each VM boots from its own copy-on-write overlay over a shared read-only
 * base image. Implementations: {@link QemuVmDriver} (QEMU processes it owns) and
 * {@link LibvirtVmDriver} (domains managed by libvirtd).
 *
 * <p>Life of a VM: {@link #create} (working directory + overlay: CREATED) → {@link #start}
 * (STARTING, then BOOTING once the hypervisor runs; UP when the guest prints its up marker) →
 * {@link #stop} (clean power-down, forced after a grace period: STOPPED) → {@link #destroy}
 * (gone, with its overlay). Failures move the VM to FAILED with a reason.
 */
public interface VmDriver {

    /** Makes the VM's working directory and overlay disk; the VM is CREATED, not running. */
    VmHandle create(VmSpec spec);

    /** Launches the hypervisor; returns once it runs (BOOTING). Watch {@link VmHandle#awaitUp}. */
    void start(VmHandle vm);

    /** Asks the guest to power down (ACPI); forces the hypervisor off after {@code grace}. Ends STOPPED. */
    void stop(VmHandle vm, Duration grace);

    /** Ends the hypervisor at once, like pulling the plug. */
    void kill(VmHandle vm);

    /** Kills the VM if it runs and deletes its working directory, overlay included. */
    void destroy(VmHandle vm);

    /**
     * How long a guest booting its disk's own boot loader may print nothing before it is failed:
     * our VMs' only display is the serial console, so a disk with no boot loader (or one whose
     * console is not on ttyS0) would otherwise sit silent until the whole timeout ran out.
     */
    Duration SILENT_DISK_BOOT = Duration.ofSeconds(60);

    /**
     * Starts the VM and waits for its up marker. A guest that is not up within {@code timeout} is
     * killed and FAILED, so a stuck boot never outlives its caller's budget; one that boots from its
     * disk and prints nothing within {@link #SILENT_DISK_BOOT} fails at once, saying what it needs.
     *
     * @return UP, or FAILED / STOPPED when it did not come up
     */
    default VmState boot(final VmHandle vm, final Duration timeout) throws InterruptedException {
        return boot(vm, timeout, SILENT_DISK_BOOT);
    }

    /** As {@link #boot(VmHandle, Duration)} with the silence allowed to a disk boot given. */
    default VmState boot(final VmHandle vm, final Duration timeout, final Duration silentDiskBoot)
            throws InterruptedException {
        start(vm);
        VmState state;
        if (vm.spec().boot() instanceof BootSource.DiskBoot && silentDiskBoot.compareTo(timeout) < 0) {
            state = vm.awaitUp(silentDiskBoot);
            if (!state.isTerminal() && state != VmState.UP && SilentGuest.printedNothing(vm.serialLog())) {
                vm.fail("guest printed nothing on its serial console in " + silentDiskBoot.toSeconds() + " s: the disk "
                        + "has no boot loader that reaches a console on ttyS0 (" + vm.serialLog() + " is empty). Boot a "
                        + "kernel directly with --kernel FILE --initrd FILE (and console=ttyS0 in --append), or use a "
                        + "disk whose boot loader and kernel print on the serial console");
                kill(vm);
                return vm.state();
            }
            state = vm.awaitUp(timeout.minus(silentDiskBoot));
        } else {
            state = vm.awaitUp(timeout);
        }
        if (state != VmState.UP) {
            vm.fail("guest not up within " + timeout + " (state " + state + "); see " + vm.serialLog());
            kill(vm);
        }
        return vm.state();
    }
}
