package dev.virtman.manager;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What the manager accepts from its clients beyond well-formed requests (docs/manager.md,
 * "What the manager accepts").
 *
 * @param imageDirs      directories image files may be in besides {@code <state dir>/images}
 *                       ({@code --image-dir}; see {@link ImageDirectories})
 * @param hostNetworks   networks hosts' addresses must be in ({@code --host-network})
 * @param maxVolumeBytes largest volume a client may create ({@code --max-volume-size})
 */
public record Admission(List<Path> imageDirs, HostNetworks hostNetworks, long maxVolumeBytes) {

    /**
     * 16 TiB: the largest file ext4 holds with 4 KiB blocks, and a volume is a sparse file on its
     * host's disk; a larger one could never be created there and would stay {@code creating}.
     */
    public static final long DEFAULT_MAX_VOLUME_BYTES = 16L << 40;
    public static final Admission DEFAULT = new Admission(List.of(), HostNetworks.DEFAULT, DEFAULT_MAX_VOLUME_BYTES);

    public Admission {
        imageDirs = List.copyOf(imageDirs);
        Objects.requireNonNull(hostNetworks, "hostNetworks");
        if (maxVolumeBytes <= 0) {
            throw new IllegalArgumentException("the largest volume size must be positive");
        }
    }

    public Admission withImageDirs(final List<Path> dirs) {
        return new Admission(dirs, hostNetworks, maxVolumeBytes);
    }

    public Admission withHostNetworks(final HostNetworks networks) {
        return new Admission(imageDirs, networks, maxVolumeBytes);
    }

    public Admission withMaxVolumeBytes(final long bytes) {
        return new Admission(imageDirs, hostNetworks, bytes);
    }
}
