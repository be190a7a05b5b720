package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.TokenBucket;
import dev.virtman.block.overlay.CopyOnWriteOverlay;
import dev.virtman.block.overlay.OverlayGeometry;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.manager.api.VolumeAssignment;
import dev.virtman.scsi.DiskIdentity;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

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
 *     -> VolumeTraffic (bytes counted; reads drawn from the agent's downstream cap)
 *     -> ScsiDisk (writable, identity from the volume id) -> LunTable (LUN 0)
 *     -> its own target, CHAP required (RFC 7143 §12.1.3), commands seen by VolumeMeters
 * </pre>
 * The SCSI identity derives from the volume id, so a guest that reconnects after an agent restart
 * sees the same disk. Like an image export, a volume export has meters (tagged with the volume
 * id) and records when each initiator first read it.
 */
public final class VolumeExport implements Closeable {
    private final VolumeAssignment assignment;
    private final CopyOnWriteOverlay overlay;
    private final VolumeMeters meters;
    private final ExportedTarget target;

    private VolumeExport(final VolumeAssignment assignment, final CopyOnWriteOverlay overlay,
                         final MeterRegistry registry, final TokenBucket downstreamCap) {
        this.assignment = assignment;
        this.overlay = overlay;
        this.meters = new VolumeMeters(assignment.id(), overlay, registry);
        BlockDevice exported = new VolumeTraffic(overlay, meters, downstreamCap);
        LunTable luns = new LunTable(List.of(new ScsiDisk(exported, DiskIdentity.fromName("volume-" + assignment.id()))));
        this.target = new ExportedTarget(assignment.iqn(), luns,
                ChapConfig.oneWay(assignment.chapUser(), assignment.chapSecret()), Set.of(), meters);
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
        return openOrCreate(directory, assignment, base, baseId, new SimpleMeterRegistry(), null);
    }

    /**
     * As {@link #openOrCreate(Path, VolumeAssignment, BlockDevice, byte[])}, with the volume's
     * meters in {@code registry} (the agent's) and its reads capped by {@code downstreamCap}.
     *
     * @param downstreamCap the agent's downstream bucket, shared with its image exports, or null
     */
    public static VolumeExport openOrCreate(final Path directory, final VolumeAssignment assignment,
                                            final BlockDevice base, final byte[] baseId,
                                            final MeterRegistry registry, final TokenBucket downstreamCap)
            throws IOException {
        OverlayGeometry geometry = new OverlayGeometry(assignment.sizeBytes(), OverlayGeometry.DEFAULT_GRAIN_SIZE, baseId);
        CopyOnWriteOverlay overlay = CopyOnWriteOverlay.exists(directory)
                ? CopyOnWriteOverlay.open(directory, geometry, base)
                : CopyOnWriteOverlay.create(directory, geometry, base);
        try {
            return new VolumeExport(assignment, overlay, registry, downstreamCap);
        } catch (RuntimeException e) {
            overlay.close();
            throw e;
        }
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

    /** When each initiator (one per VM) first read this volume. */
    public FirstReads firstReads() {
        return meters.firstReads();
    }

    /** SCSI commands, bytes read and bytes written since the volume was exported by this process. */
    public Traffic traffic() {
        return new Traffic(meters.commands(), meters.bytesRead(), meters.bytesWritten());
    }

    /** A snapshot of a volume export's counters. */
    public record Traffic(long commands, long bytesRead, long bytesWritten) { }

    /** Flushes and closes the volume's files (the base stays open) and removes its meters. */
    @Override
    public void close() throws IOException {
        try {
            overlay.close();
        } finally {
            meters.close();
        }
    }
}
