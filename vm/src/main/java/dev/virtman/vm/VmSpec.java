package dev.virtman.vm;

import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * What to run: a named VM with a boot source, memory, vCPUs, and a disk that is a fresh qcow2
 * overlay over a read-only base image (a local file or an {@code iscsi://} URL). Writes of the
 * guest land in the overlay; the base is shared by every VM booted from it.
 *
 * @param name       unique per driver; names the working directory, so {@code [a-z0-9][a-z0-9_.-]*}
 * @param boot       direct kernel or disk boot
 * @param memoryMiB  guest RAM
 * @param vcpus      virtual CPUs
 * @param disk       the overlay's backing image
 * @param upMarker   the serial console line prefix that means the guest is up
 */
public record VmSpec(String name, BootSource boot, int memoryMiB, int vcpus, OverlayDisk disk, String upMarker) {

    /** What {@code scripts/build-debian-guest}'s guest prints once multi-user.target is reached. */
    public static final String DEFAULT_UP_MARKER = GuestMarker.UP;
    public static final int DEFAULT_MEMORY_MIB = 512;
    private static final int MIN_MEMORY_MIB = 16;
    private static final int MAX_VCPUS = 255;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    /**
     * The disk: a qcow2 overlay over {@code backing} (raw format). {@code sizeBytes}, when known,
     * is passed to {@code qemu-img create} so that it need not open the backing image to learn it.
     */
    public record OverlayDisk(String backing, OptionalLong sizeBytes) {
        public OverlayDisk {
            Objects.requireNonNull(backing, "backing");
            Objects.requireNonNull(sizeBytes, "sizeBytes");
            if (backing.isBlank()) {
                throw new IllegalArgumentException("overlay backing must not be blank");
            }
        }

        public static OverlayDisk over(final String backing) {
            return new OverlayDisk(backing, OptionalLong.empty());
        }
    }

    public VmSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(boot, "boot");
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(upMarker, "upMarker");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("VM name must match " + NAME + ": '" + name + "'");
        }
        if (memoryMiB < MIN_MEMORY_MIB) {
            throw new IllegalArgumentException("memory must be >= " + MIN_MEMORY_MIB + " MiB: " + memoryMiB);
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vCPUs must be 1.." + MAX_VCPUS + ": " + vcpus);
        }
        if (upMarker.isBlank()) {
            throw new IllegalArgumentException("up marker must not be blank");
        }
    }

    /** Prefix of the iSCSI initiator name a VM logs in to its base image with. */
    public static final String INITIATOR_PREFIX = "iqn.2026-11.dev.virtman:vm.";

    /**
     * The iSCSI InitiatorName this VM's hypervisor logs in with: one per VM, so the agent serving
     * the base image can tell VMs apart (first read per VM). iSCSI names allow lower-case letters,
     * digits, '.', '-' and ':' (RFC 7143 §4.2.7.2, RFC 3722), so '_' of a VM name becomes '-'.
     */
    public String initiatorName() {
        return initiatorNameOf(name);
    }

    /** {@link #initiatorName()} of the VM named {@code vmName}. */
    public static String initiatorNameOf(final String vmName) {
        return INITIATOR_PREFIX + vmName.replace('_', '-');
    }

    /** Whether the overlay's base is an iSCSI export (then the VM logs in as {@link #initiatorName}). */
    public boolean overIscsi() {
        return disk.backing().startsWith("iscsi://");
    }

    /** A 512 MiB, 1 vCPU VM that waits for the standard marker. */
    public static VmSpec of(final String name, final BootSource boot, final OverlayDisk disk) {
        return new VmSpec(name, boot, DEFAULT_MEMORY_MIB, 1, disk, DEFAULT_UP_MARKER);
    }
}
