package dev.virtman.bench.storm;

import dev.virtman.agent.BandwidthCap;
import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.RateLimitedBlockDevice;
import dev.virtman.block.TokenBucket;
import dev.virtman.boot.LoopbackPorts;
import dev.virtman.boot.SourceTarget;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;

/**
 * Baseline (a), what OpenStack's default image cache does: each host first copies the whole image
 * from the source over its (capped) link into a local file, and only then starts its VMs, which
 * read the local copy. Zero blocks are received but not written, so the copies stay sparse on
 * this one machine's disk; they still cross the wire in full.
 */
public final class FullCopyRun {
    private static final int COPY_PIECE = 1 << 20;

    private final StormRun replay;
    private final StormImage image;
    private final long linkBytesPerSecond;
    private final PrintStream progress;

    public FullCopyRun(final StormRun replay, final StormImage image, final long linkBytesPerSecond,
                       final PrintStream progress) {
        this.replay = replay;
        this.image = image;
        this.linkBytesPerSecond = linkBytesPerSecond;
        this.progress = progress;
    }

    /** Copies to {@code hosts} hosts at once, then runs their VMs on the copies. */
    public StrategyResult run(final Path workDir, final String imageId, final int hosts, final int vmsPerHost)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        try (SourceTarget source = SourceTarget.start(LoopbackPorts.freePortOn("127.0.0.1"), imageId, image.path());
             HeapSampler heap = new HeapSampler();
             ExecutorService copiers = Executors.newVirtualThreadPerTaskExecutor()) {
            long start = System.nanoTime();
            long cpuStart = CpuClock.processCpuNanos();
            List<Future<Path>> copies = new ArrayList<>();
            for (int h = 0; h < hosts; h++) {
                Path copy = workDir.resolve("host-" + (h + 1) + ".img");
                String initiator = "copy-host-" + (h + 1);
                copies.add(copiers.submit(() -> copy(source.url(), copy, initiator)));
            }
            List<Path> local = new ArrayList<>();
            for (Future<Path> f : copies) {
                try {
                    local.add(f.get());
                } catch (ExecutionException e) {
                    throw new IOException("full copy failed: " + e.getCause(), e.getCause());
                }
            }
            progress.printf("  [full-copy] %d copies of %s done after %.1fs; starting VMs%n", hosts,
                    StormReport.bytes(image.size()), (System.nanoTime() - start) / 1e9);
            // VMs start when their host's copy is there; all copies run at the same pace, so they
            // start together, and their trace time counts from then, as after a real download.
            long vmStart = System.nanoTime();
            VmCpuMeter vmCpu = VmCpuMeter.start();
            List<EmulatedVm.Result> results;
            try {
                results = replay.replayAll("full-copy", hosts, vmsPerHost,
                        (host, vm) -> FileBlockDevice.open(local.get(host), false), vmStart,
                        source::bytesServed, heap, vmCpu);
            } finally {
                vmCpu.close();
            }
            List<EmulatedVm.Result> fromStormStart = results.stream()
                    .map(r -> new EmulatedVm.Result(r.vm(), start, r.endNanos(), r.bytesRead(), r.mismatchedBytes(),
                            r.error(), r.cpuNanos()))
                    .toList();
            return replay.summarize("full-copy", hosts, vmsPerHost, fromStormStart, source.bytesServed(),
                    Map.of(1, source.bytesServed()), 0, heap.peakBytes(), heap.peakRssBytes(),
                    CpuClock.secondsSince(cpuStart), vmCpu, (System.nanoTime() - start) / 1e9, List.of("each host copied all " + image.size() + " bytes before its VMs started"));
        }
    }

    private Path copy(final String sourceUrl, final Path target, final String initiator) throws IOException {
        TokenBucket bucket = BandwidthCap.bucket(linkBytesPerSecond);
        InitiatorOptions options = InitiatorOptions.defaults()
                .withInitiatorName(InitiatorOptions.DEFAULT_NAME_PREFIX + initiator);
        try (BlockDevice remote = capped(IscsiBlockDevice.open(IscsiUrl.parse(sourceUrl), options), bucket);
             FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(COPY_PIECE);
            long size = remote.size();
            for (long pos = 0; pos < size; pos += COPY_PIECE) {
                buf.clear().limit((int) Math.min(COPY_PIECE, size - pos));
                remote.read(pos, buf);
                buf.flip();
                if (!allZero(buf)) {
                    long at = pos;
                    while (buf.hasRemaining()) {
                        at += out.write(buf, at);
                    }
                }
            }
            out.truncate(size);
            if (out.size() < size) {
                out.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return target;
    }

    private static BlockDevice capped(final BlockDevice device, final TokenBucket bucket) {
        return bucket == null ? device : new RateLimitedBlockDevice(device, bucket);
    }

    private static boolean allZero(final ByteBuffer buf) {
        for (int i = buf.position(); i < buf.limit(); i += Long.BYTES) {
            if (buf.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
