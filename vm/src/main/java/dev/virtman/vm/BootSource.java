package dev.virtman.vm;

import java.nio.file.Path;
import java.util.Objects;

/** How a VM boots: a kernel handed to the hypervisor directly, or the firmware booting the disk. */
public sealed interface BootSource {

    /**
     * Direct kernel boot ({@code -kernel/-initrd/-append}): the kernel and initramfs live on the host,
     * only the root filesystem comes from the (remote) disk.
     */
    record DirectKernel(Path kernel, Path initrd, String append) implements BootSource {
        public DirectKernel {
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(initrd, "initrd");
            Objects.requireNonNull(append, "append");
        }
    }

    /** The firmware boots the disk's own boot loader. */
    record DiskBoot() implements BootSource {
    }
}
