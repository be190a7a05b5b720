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
     * Starts the VM and waits for its up marker. A guest that is not up within {@code timeout} is
     * killed and FAILED, so a stuck boot never outlives its caller's budget.
     *
     * @return UP, or FAILED / STOPPED when it did not come up
     */
    default VmState boot(final VmHandle vm, final Duration timeout) throws InterruptedException {
        start(vm);
        VmState state = vm.awaitUp(timeout);
        if (state != VmState.UP) {
            vm.fail("guest not up within " + timeout + " (state " + state + "); see " + vm.serialLog());
            kill(vm);
        }
        return vm.state();
    }
}
