package dev.virtman.manager.api;

/**
 * {@code PUT /v1/hosts/{hostId}/vms/{name}}: a VM the host's agent is to run (or stop, or destroy).
 * The agent gives it a qcow2 overlay over its own export of {@code imageId} and boots it with QEMU.
 *
 * @param name           VM name, unique per host ({@code [a-z0-9][a-z0-9_.-]{0,62}})
 * @param imageId        a registered image the agent serves (it must run with {@code --managed-image} for it)
 * @param kernel         direct kernel boot: kernel path on the agent's host; null boots the disk
 * @param initrd         initramfs path on the agent's host (with {@code kernel})
 * @param append         kernel command line (with {@code kernel})
 * @param memoryMiB      guest memory
 * @param upMarker       serial console text that means the guest is up
 * @param timeoutSeconds a guest not up this long after launch is killed and FAILED
 * @param desired        {@code running}, {@code stopped} or {@code destroyed}
 */
public record VmOrder(String name, String imageId, String kernel, String initrd, String append, int memoryMiB,
                      String upMarker, int timeoutSeconds, String desired) {
    public static final String RUNNING = "running";
    public static final String STOPPED = "stopped";
    public static final String DESTROYED = "destroyed";

    public VmOrder withDesired(final String next) {
        return new VmOrder(name, imageId, kernel, initrd, append, memoryMiB, upMarker, timeoutSeconds, next);
    }
}
