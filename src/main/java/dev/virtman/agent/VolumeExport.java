package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.overlay.CopyOnWriteOverlay;
import dev.virtman.block.overlay.OverlayGeometry;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.manager.api.VolumeAssignment;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.LunTable;
import dev.virtman.scsi.ScsiDisk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * One writable volume on an agent:
 * <pre>
 *   image's shared ChunkCache (read-only, lazy, verified)
 *     -> CopyOnWriteOverlay (volumesDir/&lt;id&gt;: data + written bitmap)
 *     -> ScsiDisk (writable, identity from the volume id) -> LunTable (LUN 0)
 *     -> its own target, CHAP required (RFC 7143 §12.1.3)
 * </pre>
 * The SCSI identity derives from the volume id, so a guest that reconnects after an agent restart
 * sees the same disk.
 */
public final class VolumeExport implements Closeable {
    private final VolumeAssignment assignment;
    private final CopyOnWriteOverlay overlay;
    private final ExportedTarget target;

    private VolumeExport(final VolumeAssignment assignment, final CopyOnWriteOverlay overlay) {
        this.assignment = assignment;
        this.overlay = overlay;
        LunTable luns = new LunTable(List.of(new ScsiDisk(overlay, DiskIdentity.fromName("volume-" + assignment.id()))));
        this.target = new ExportedTarget(assignment.iqn(), luns,
                ChapConfig.oneWay(assignment.chapUser(), assignment.chapSecret()), Set.of());
    }

    /**
     * Opens the volume in {@code directory}, creating it when it does not exist yet (a restarted
     * agent finds what was flushed before).
     *
     * @param base   the image's device (never written)
     * @param baseId the image id (32 bytes): a volume is never opened over another image
     */
    public static VolumeExport openOrCreate(final Path directory, final VolumeAssignment assignment,
                                            final BlockDevice base, final byte[] baseId) throws IOException {
        OverlayGeometry geometry = new OverlayGeometry(assignment.sizeBytes(), OverlayGeometry.DEFAULT_GRAIN_SIZE, baseId);
        CopyOnWriteOverlay overlay = CopyOnWriteOverlay.exists(directory)
                ? CopyOnWriteOverlay.open(directory, geometry, base)
                : CopyOnWriteOverlay.create(directory, geometry, base);
        return new VolumeExport(assignment, overlay);
    }

    public String id() {
        return assignment.id();
    }

    public String imageId() {
        return assignment.imageId();
    }

    public String iqn() {
        return assignment.iqn();
    }

    public ExportedTarget target() {
        return target;
    }

    public CopyOnWriteOverlay overlay() {
        return overlay;
    }

    /** Flushes and closes the volume's files (the base stays open). */
    @Override
    public void close() throws IOException {
        overlay.close();
    }
}
