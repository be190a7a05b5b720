package dev.virtman.boot;

import dev.virtman.vm.VmPhase;
import dev.virtman.vm.VmTimeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * The boot timeline a person reads to see where time went: one row per VM, a bar per phase
 * (overlay created → QEMU started → first read → guest up → exit), on a common time axis from the start of
 * the boot. Written as SVG, or as an HTML page embedding the SVG plus the summary.
 */
public final class TimelineReport {
    private static final int ROW = 22;
    private static final int LABEL = 120;
    private static final int WIDTH = 900;
    private static final int TOP = 30;
    /** QEMU started → the VM's first disk read (firmware, kernel and initramfs, all local to the host). */
    private static final String FIRST_READ_COLOUR = "#c9b";

    private TimelineReport() {
    }

    public static void write(final BootOutcome outcome, final Path file) throws IOException {
        String svg = svg(outcome);
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        String content = name.endsWith(".svg") ? svg : html(outcome, svg);
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    static String html(final BootOutcome outcome, final String svg) {
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>VirtMan boot timeline</title>"
                + "<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}</style></head><body>\n"
                + "<h1>VirtMan boot timeline</h1>\n<pre>" + escape(outcome.summary()) + "</pre>\n" + svg
                + "\n<p>Bars: <span style=\"color:#88c\">blue</span> set-up (image, manifest, manager, source, agents, overlays), "
                + "<span style=\"color:#9bb\">grey</span> overlay created → QEMU started, "
                + "<span style=\"color:#c9b\">mauve</span> QEMU started → first read of the VM's disk (black tick; seen by the host's agent), "
                + "<span style=\"color:#e90\">orange</span> first read (or QEMU started) → guest up, "
                + "<span style=\"color:#4a4\">green</span> guest up → exit.</p>\n</body></html>\n";
    }

    static String svg(final BootOutcome outcome) {
        Instant t0 = outcome.started();
        double end = 1;
        for (VmBoot v : outcome.vms()) {
            for (Instant t : v.vm().timeline().phases().values()) {
                end = Math.max(end, seconds(t0, t));
            }
        }
        double scale = (WIDTH - LABEL - 70) / end; // room for the "up N s" label after the last bar
        int height = TOP + ROW * (outcome.vms().size() + 1) + 30;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                WIDTH, height));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\">seconds since the boot began (0 - %.1f s)</text>%n",
                LABEL, end));
        int y = TOP;
        s.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\">set-up</text>%n", y + 14));
        bar(s, t0, Optional.of(t0), Optional.of(outcome.vmsLaunched()), "#88c", y, scale);
        y += ROW;
        for (VmBoot v : outcome.vms()) {
            VmTimeline tl = v.vm().timeline();
            s.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\">%s (%s)</text>%n", y + 14,
                    escape(v.vm().name()), escape(v.hostId())));
            bar(s, t0, tl.at(VmPhase.OVERLAY_CREATED), tl.at(VmPhase.PROCESS_STARTED), "#9bb", y, scale);
            Optional<Instant> firstRead = tl.at(VmPhase.FIRST_READ);
            if (firstRead.isPresent()) {
                bar(s, t0, tl.at(VmPhase.PROCESS_STARTED), firstRead, FIRST_READ_COLOUR, y, scale);
                bar(s, t0, firstRead, tl.at(VmPhase.GUEST_UP), "#e90", y, scale);
                s.append(String.format(Locale.ROOT,
                        "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" stroke-width=\"2\">"
                                + "<title>first read %.2f s</title></line>%n",
                        LABEL + seconds(t0, firstRead.get()) * scale, y + 1, LABEL + seconds(t0, firstRead.get()) * scale,
                        y + ROW - 1, seconds(t0, firstRead.get())));
            } else {
                bar(s, t0, tl.at(VmPhase.PROCESS_STARTED), tl.at(VmPhase.GUEST_UP), "#e90", y, scale);
            }
            bar(s, t0, tl.at(VmPhase.GUEST_UP), tl.at(VmPhase.PROCESS_EXITED), "#4a4", y, scale);
            Optional<Instant> up = tl.at(VmPhase.GUEST_UP);
            if (up.isPresent()) {
                s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">up %.1fs</text>%n",
                        LABEL + seconds(t0, up.get()) * scale + 3, y + 14, seconds(t0, up.get())));
            }
            y += ROW;
        }
        for (int sec = 0; sec <= (int) end; sec += Math.max(1, (int) Math.ceil(end / 10))) {
            double x = LABEL + sec * scale;
            s.append(String.format(Locale.ROOT,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/><text x=\"%.1f\" y=\"%d\">%d</text>%n",
                    x, TOP - 4, x, y, x - 3, y + 14, sec));
        }
        return s.append("</svg>").toString();
    }

    private static void bar(final StringBuilder s, final Instant t0, final Optional<Instant> from,
                            final Optional<Instant> to, final String colour, final int y, final double scale) {
        if (from.isEmpty()) {
            return;
        }
        double a = seconds(t0, from.get());
        double b = to.map(t -> seconds(t0, t)).orElse(a);
        s.append(String.format(Locale.ROOT,
                "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n",
                LABEL + a * scale, y + 3, Math.max(1.0, (b - a) * scale), ROW - 6, colour));
    }

    private static double seconds(final Instant t0, final Instant t) {
        return Duration.between(t0, t).toMillis() / 1000.0;
    }

    private static String escape(final String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
