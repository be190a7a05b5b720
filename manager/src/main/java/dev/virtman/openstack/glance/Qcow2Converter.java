package dev.virtman.openstack.glance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.virtman.openstack.glance.GlanceException.Kind;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Turns a downloaded qcow2 image into the raw file VirtMan exports, with {@code qemu-img}.
 *
 * <p>A qcow2 file from Glance is untrusted input: its header may name a backing file or an
 * external data file ({@code data-file}) anywhere on this host, which {@code qemu-img convert}
 * would read into the image (the qcow2 backing-file disclosure Nova and Cinder guard against too).
 * {@link #toRaw} therefore inspects the header first ({@code qemu-img info --output=json}) and
 * refuses such images, and converts with the format fixed to qcow2 so nothing is probed.
 */
public final class Qcow2Converter {

    private static final Duration INFO_TIMEOUT = Duration.ofMinutes(1);
    /** Conversion is disk-bound; a 20 GB image takes minutes, an hour means something is stuck. */
    private static final Duration CONVERT_TIMEOUT = Duration.ofHours(1);
    private static final int MAX_OUTPUT_BYTES = 64 << 10;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Executor DRAINER = Executors.newVirtualThreadPerTaskExecutor();

    /** Converts {@code qcow2} (checked as above) to a sparse raw file {@code raw}. */
    public void toRaw(final Path qcow2, final Path raw) {
        JsonNode info = info(qcow2);
        String format = info.path("format").asText();
        if (!GlanceImage.QCOW2.equals(format)) {
            throw new GlanceException(Kind.UNSUPPORTED, "Glance says qcow2, but qemu-img reads the data as '"
                    + format + "'; rejected");
        }
        if (info.hasNonNull("backing-filename") || info.hasNonNull("full-backing-filename")) {
            throw new GlanceException(Kind.UNSUPPORTED, "the qcow2 image names a backing file ("
                    + info.path("backing-filename").asText() + "); VirtMan imports only self-contained images");
        }
        JsonNode data = info.path("format-specific").path("data");
        if (data.hasNonNull("data-file")) {
            throw new GlanceException(Kind.UNSUPPORTED, "the qcow2 image names an external data file ("
                    + data.path("data-file").asText() + "); VirtMan imports only self-contained images");
        }
        run(List.of("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2.toString(), raw.toString()),
                CONVERT_TIMEOUT);
    }

    private static JsonNode info(final Path image) {
        String out = run(List.of("qemu-img", "info", "--output=json", "-f", "qcow2", image.toString()), INFO_TIMEOUT);
        try {
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new GlanceException(Kind.LOCAL, "unreadable qemu-img info output: " + GlanceClient.abbreviate(out), e);
        }
    }

    private static String run(final List<String> command, final Duration timeout) {
        Process p;
        try {
            p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new GlanceException(Kind.LOCAL, "cannot run qemu-img (Debian package qemu-utils): " + e.getMessage(), e);
        }
        // Drained on its own thread so the time limit holds even while qemu-img prints nothing.
        CompletableFuture<byte[]> output = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()), DRAINER);
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new GlanceException(Kind.LOCAL, String.join(" ", command) + " did not finish within " + timeout);
            }
            String text = new String(output.join(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new GlanceException(Kind.UNSUPPORTED, String.join(" ", command) + " failed (exit " + p.exitValue()
                        + "): " + GlanceClient.abbreviate(text));
            }
            return text;
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new GlanceException(Kind.LOCAL, "interrupted while running qemu-img", e);
        }
    }

    private static byte[] drain(final InputStream in) {
        try (in) {
            byte[] kept = in.readNBytes(MAX_OUTPUT_BYTES);
            in.transferTo(OutputStream.nullOutputStream()); // never block qemu-img on a full pipe
            return kept;
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
