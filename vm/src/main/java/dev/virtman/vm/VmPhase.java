package dev.virtman.vm;

/** The moments of a VM's life that its timeline records, in the order they happen. */
public enum VmPhase {
    /** The copy-on-write overlay over the (remote) base image exists. */
    OVERLAY_CREATED,
    /** The hypervisor process was launched. */
    PROCESS_STARTED,
    /**
     * The VM's first READ reached the agent exporting its base image (recorded by the agent per
     * initiator name, see {@link VmSpec#initiatorName()}); absent for a local base image.
     */
    FIRST_READ,
    /** The host saw the guest's up marker on the serial console. */
    GUEST_UP,
    /** The hypervisor process exited (stop, crash or kill). */
    PROCESS_EXITED
}
