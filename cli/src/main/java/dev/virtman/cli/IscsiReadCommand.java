package dev.virtman.cli;

import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.iscsi.login.ChapConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virtman iscsi-read iscsi://...}: reads a whole LUN with VirtMan's own initiator,
 * optionally into a file and/or compared byte for byte with a local image. Progress goes to
 * stderr once a second, throughput at the end; handy to benchmark a parent.
 */
@Command(name = "iscsi-read", mixinStandardHelpOptions = true,
        description = "Read a whole iSCSI LUN with VirtMan's initiator (progress and throughput on stderr).")
public final class IscsiReadCommand implements Callable<Integer> {

    private static final int MIB = 1 << 20;
    private static final long PROGRESS_MILLIS = 1000;
    private static final double NANOS_PER_SECOND = 1e9;

    @Parameters(index = "0", paramLabel = "URL", description = "iscsi://[user[%%password]@]host[:port]/IQN/LUN")
    String url;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "write the LUN's bytes to FILE")
    Path output;

    @Option(names = "--check", paramLabel = "IMAGE", description = "compare every byte with this local image")
    Path check;

    @Option(names = "--chunk", paramLabel = "MiB", defaultValue = "4", description = "bytes per read call in MiB (default: ${DEFAULT-VALUE})")
    int chunkMiB;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "8", description = "concurrent read calls (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--max-transfer", paramLabel = "KiB", defaultValue = "1024",
            description = "largest READ command in KiB (default: ${DEFAULT-VALUE}; the target's limit also applies)")
    int maxTransferKiB;

    @Option(names = "--digests", description = "offer CRC32C header and data digests")
    boolean digests;

    @Option(names = "--mutual-chap-user", paramLabel = "NAME", description = "name the target must answer mutual CHAP with")
    String mutualUser;

    @Option(names = "--mutual-chap-secret", paramLabel = "SECRET", description = "secret the target must prove")
    String mutualSecret;

    @Option(names = "--initiator-name", paramLabel = "IQN", description = "our iSCSI name (default: iqn.2026-11.dev.virtman:initiator-<host>)")
    String initiatorName;

    @Option(names = "--command-timeout", paramLabel = "DURATION", defaultValue = "30s",
            converter = DurationConverter.class, description = "declare the connection dead after (default: ${DEFAULT-VALUE})")
    Duration commandTimeout;

    @Option(names = "--recovery-timeout", paramLabel = "DURATION", defaultValue = "60s",
            converter = DurationConverter.class, description = "give up reconnecting after (default: ${DEFAULT-VALUE})")
    Duration recoveryTimeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (chunkMiB < 1 || parallel < 1 || maxTransferKiB < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chunk, --parallel and --max-transfer must be positive");
        }
        IscsiUrl target = IscsiUrl.parse(url);
        InitiatorOptions options = InitiatorOptions.defaults()
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), commandTimeout, recoveryTimeout)
                .withDigests(digests, digests)
                .withMaxReadBytes(maxTransferKiB * 1024);
        if (initiatorName != null) {
            options = options.withInitiatorName(initiatorName);
        }
        if (mutualUser != null || mutualSecret != null) {
            if (!target.hasCredentials() || target.password() == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "mutual CHAP needs user%password in the URL");
            }
            options = options.withChap(new ChapConfig(target.user(), target.password(), mutualUser, mutualSecret));
        }
        try (IscsiBlockDevice device = IscsiBlockDevice.open(target, options);
             FileChannel out = output == null ? null : FileChannel.open(output, StandardOpenOption.CREATE,
                     StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
             FileChannel reference = check == null ? null : FileChannel.open(check, StandardOpenOption.READ)) {
            long size = device.size();
            if (reference != null && reference.size() != size) {
                err.printf("MISMATCH: LUN has %d bytes, %s has %d%n", size, check, reference.size());
                return 1;
            }
            return readAll(device, size, out, reference, err);
        }
    }

    private int readAll(final IscsiBlockDevice device, final long size, final FileChannel out,
                        final FileChannel reference, final PrintWriter err) throws Exception {
        long chunk = (long) chunkMiB * MIB;
        AtomicLong next = new AtomicLong();
        AtomicLong done = new AtomicLong();
        AtomicLong firstMismatch = new AtomicLong(-1);
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < parallel; w++) {
                workers.add(pool.submit(() -> {
                    ByteBuffer buf = ByteBuffer.allocateDirect((int) chunk);
                    ByteBuffer ref = reference == null ? null : ByteBuffer.allocateDirect((int) chunk);
                    long offset;
                    while ((offset = next.getAndAdd(chunk)) < size) {
                        int n = (int) Math.min(chunk, size - offset);
                        buf.clear().limit(n);
                        device.read(offset, buf);
                        buf.flip();
                        if (out != null) {
                            writeFully(out, buf.duplicate(), offset);
                        }
                        if (ref != null) {
                            compare(reference, ref, buf, offset, firstMismatch);
                        }
                        done.addAndGet(n);
                    }
                    return null;
                }));
            }
            waitWithProgress(workers, done, size, start, err);
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / NANOS_PER_SECOND;
        err.printf(Locale.ROOT, "read %d bytes in %.2f s: %.1f MiB/s (%d reconnects)%n", size, seconds,
                size / seconds / MIB, device.session().recoveries());
        if (reference != null) {
            if (firstMismatch.get() >= 0) {
                err.printf("MISMATCH: first differing byte at offset %d%n", firstMismatch.get());
                return 1;
            }
            err.println("identical to " + check);
        }
        err.flush();
        return 0;
    }

    private static void waitWithProgress(final List<Future<?>> workers, final AtomicLong done, final long size,
                                         final long start, final PrintWriter err) throws Exception {
        for (Future<?> f : workers) {
            while (true) {
                try {
                    f.get(PROGRESS_MILLIS, TimeUnit.MILLISECONDS);
                    break;
                } catch (java.util.concurrent.TimeoutException e) {
                    double seconds = (System.nanoTime() - start) / NANOS_PER_SECOND;
                    err.printf(Locale.ROOT, "%d / %d MiB (%.0f MiB/s)%n", done.get() / MIB, size / MIB,
                            done.get() / seconds / MIB);
                    err.flush();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof Exception cause) {
                        throw cause;
                    }
                    throw e;
                }
            }
        }
    }

    private static void writeFully(final FileChannel out, final ByteBuffer data, final long offset) throws IOException {
        long pos = offset;
        while (data.hasRemaining()) {
            pos += out.write(data, pos);
        }
    }

    private static void compare(final FileChannel reference, final ByteBuffer ref, final ByteBuffer got,
                                final long offset, final AtomicLong firstMismatch) throws IOException {
        ref.clear().limit(got.remaining());
        long pos = offset;
        while (ref.hasRemaining()) {
            int n = reference.read(ref, pos);
            if (n < 0) {
                break;
            }
            pos += n;
        }
        ref.flip();
        int at = ref.mismatch(got);
        if (at >= 0) {
            firstMismatch.accumulateAndGet(offset + at, (a, b) -> a < 0 ? b : Math.min(a, b));
        }
    }
}
