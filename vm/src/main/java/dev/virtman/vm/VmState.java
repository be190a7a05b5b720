package dev.virtman.vm;

/**
 * Where a VM is in its life. The normal path is CREATED → STARTING → BOOTING → UP → STOPPED;
 * FAILED is terminal and can be reached from any state before STOPPED.
 */
public enum VmState {
    /** Working directory and overlay exist; no hypervisor process yet. */
    CREATED,
    /** The hypervisor process is being launched. */
    STARTING,
    /** The hypervisor runs; the guest has not announced itself yet. */
    BOOTING,
    /** The guest printed its up marker (multi-user.target reached). */
    UP,
    /** The hypervisor process has exited after a stop was asked for. */
    STOPPED,
    /** Launch failed, the hypervisor died on its own, or the guest did not come up in time. */
    FAILED;

    /** True once nothing more will happen to the VM. */
    public boolean isTerminal() {
        return this == STOPPED || this == FAILED;
    }
}
