package dev.virtman.agent;

import dev.virtman.block.overlay.CopyOnWriteOverlay;
import dev.virtman.iscsi.target.CommandObserver;
import dev.virtman.scsi.ScsiCommand;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one volume export did, as the agent's image exports report it: Micrometer meters tagged
 * {@code volume=<id>} (SCSI commands, bytes read and written, grains written), and the time each
 * initiator first read the volume ({@link FirstReads}). Sees every command as the target's
 * {@link CommandObserver}; {@link VolumeTraffic} feeds it the bytes. {@link #close} removes the
 * meters, so a deleted volume leaves no series behind.
 */
final class VolumeMeters implements CommandObserver, AutoCloseable {
    static final String COMMANDS = "virtman.volume.commands";
    static final String READ_BYTES = "virtman.volume.read.bytes";
    static final String WRITTEN_BYTES = "virtman.volume.written.bytes";
    static final String WRITTEN_GRAINS = "virtman.volume.written.grains";
    static final String VOLUME_TAG = "volume";

    private final MeterRegistry registry;
    private final FirstReads firstReads = new FirstReads();
    private final LongAdder commands = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final List<Meter> meters = new ArrayList<>();

    VolumeMeters(final String volumeId, final CopyOnWriteOverlay overlay, final MeterRegistry registry) {
        this.registry = registry;
        Tags tags = Tags.of(VOLUME_TAG, volumeId);
        meters.add(FunctionCounter.builder(COMMANDS, commands, LongAdder::sum)
                .description("SCSI commands received for the volume").tags(tags).register(registry));
        meters.add(FunctionCounter.builder(READ_BYTES, bytesRead, LongAdder::sum).baseUnit("bytes")
                .description("bytes initiators read from the volume").tags(tags).register(registry));
        meters.add(FunctionCounter.builder(WRITTEN_BYTES, bytesWritten, LongAdder::sum).baseUnit("bytes")
                .description("bytes initiators wrote to the volume").tags(tags).register(registry));
        meters.add(Gauge.builder(WRITTEN_GRAINS, overlay, CopyOnWriteOverlay::writtenGrains)
                .description("grains of the volume held in its own data file (written at least once)").tags(tags)
                .register(registry));
    }

    @Override
    public void beforeExecute(final String initiatorName, final ScsiCommand command) {
        commands.increment();
        firstReads.beforeExecute(initiatorName, command);
    }

    void read(final long bytes) {
        bytesRead.add(bytes);
    }

    void written(final long bytes) {
        bytesWritten.add(bytes);
    }

    /** When each initiator first read the volume. */
    FirstReads firstReads() {
        return firstReads;
    }

    long commands() {
        return commands.sum();
    }

    long bytesRead() {
        return bytesRead.sum();
    }

    long bytesWritten() {
        return bytesWritten.sum();
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
    }
}
