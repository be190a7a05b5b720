package dev.virtman.vm;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short host tool (qemu-img, virsh) to completion with a time bound and returns what it
 * printed. A tool that is missing, fails or hangs becomes a {@link VmException} that names the
 * command and carries the tool's own error text, which is what an operator needs to fix it.
 */
final class HostCommand {

    /** Output kept for error messages and results; tools used here print far less. */
    private static final int MAX_OUTPUT_BYTES = 1 << 20;
    /** One virtual thread per pipe: the common pool may have a single thread on a 2-core host. */
    private static final Executor DRAINERS = Executors.newVirtualThreadPerTaskExecutor();

    private HostCommand() {
    }

    /** Exit code, stdout and stderr of a finished command. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    /** Runs {@code command}; throws unless it exits 0 within {@code timeout}. */
    static String run(final List<String> command, final Duration timeout) {
        Result r = runAllowingFailure(command, timeout);
        if (r.exitCode() != 0) {
            throw new VmException(String.join(" ", command) + " failed (exit " + r.exitCode() + "): "
                    + firstNonBlank(r.stderr(), r.stdout()).strip());
        }
        return r.stdout();
    }

    /** Runs {@code command}; throws only if it cannot start or does not finish within {@code timeout}. */
    static Result runAllowingFailure(final List<String> command, final Duration timeout) {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new VmException("cannot run " + command.getFirst() + " (is it installed? scripts/install-deps): "
                    + e.getMessage(), e);
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()), DRAINERS);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()), DRAINERS);
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new VmException(String.join(" ", command) + " did not finish within " + timeout);
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new VmException("interrupted while running " + command.getFirst(), e);
        }
    }

    private static String drain(final InputStream in) {
        try (in) {
            byte[] kept = in.readNBytes(MAX_OUTPUT_BYTES);
            in.transferTo(OutputStream.nullOutputStream()); // never block the child on a full pipe
            return new String(kept, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static String firstNonBlank(final String a, final String b) {
        return a.isBlank() ? b : a;
    }
}
