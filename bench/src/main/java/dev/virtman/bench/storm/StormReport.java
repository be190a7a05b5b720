package dev.virtman.bench.storm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a storm's results: {@code storm-report.md} for people, {@code storm-report.json} for
 * scripts, and {@code storm-cdf.svg}, the boot-completion CDF of every strategy on one plot.
 */
public final class StormReport {
    private static final double KIB = 1024;
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    private static final int WIDTH = 720;
    private static final int HEIGHT = 420;
    private static final int MARGIN = 60;
    /** The bound: the source serves at most fan-out × working set, plus 20 %. */
    public static final double SOURCE_BOUND_SLACK = 1.2;

    private final StormSettings settings;
    private final List<StrategyResult> results;

    public StormReport(final StormSettings settings, final List<StrategyResult> results) {
        this.settings = settings;
        this.results = results;
    }

    /** Human-readable byte count (binary units). */
    public static String bytes(final long n) {
        if (n < KIB) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= KIB && u < units.length - 1) {
            v /= KIB;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private StrategyResult find(final String strategy) {
        return results.stream().filter(r -> r.strategy().equals(strategy)).findFirst().orElse(null);
    }

    public void write(final Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("storm-report.md"), markdown());
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("settings", settings);
        doc.put("results", results.stream().map(StormReport::summary).toList());
        json.writeValue(dir.resolve("storm-report.json").toFile(), doc);
        Files.writeString(dir.resolve("storm-cdf.svg"), svg());
    }

    private static Map<String, Object> summary(final StrategyResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("strategy", r.strategy());
        m.put("hosts", r.hosts());
        m.put("vmsPerHost", r.vmsPerHost());
        m.put("completed", r.bootSeconds().size());
        m.put("failedVms", r.failedVms());
        m.put("mismatchedBytes", r.mismatchedBytes());
        m.put("verifiedBytes", r.verifiedBytes());
        m.put("p50Seconds", r.quantile(0.5));
        m.put("p99Seconds", r.quantile(0.99));
        m.put("maxSeconds", r.max());
        m.put("sourceBytes", r.sourceBytes());
        m.put("bytesPerLevel", r.bytesPerLevel());
        m.put("cacheHitRatio", r.cacheHitRatio());
        m.put("peakHeapBytes", r.peakHeapBytes());
        m.put("peakRssBytes", r.peakRssBytes());
        m.put("cpuSeconds", r.cpuSeconds());
        m.put("vmReplayCpuSeconds", r.cpuSplit().vmReplaySeconds());
        m.put("vmReaderCpuSeconds", r.cpuSplit().vmReaderSeconds());
        m.put("meterCpuSeconds", r.cpuSplit().meterSeconds());
        m.put("coreSecondsPerGib", r.coreSecondsPerGib());
        m.put("vmCoreSecondsPerGib", r.vmCoreSecondsPerGib());
        m.put("virtmanCoreSecondsPerGib", r.virtmanCoreSecondsPerGib());
        m.put("wallSeconds", r.wallSeconds());
        m.put("errors", r.errors());
        m.put("notes", r.notes());
        m.put("bootSeconds", r.bootSeconds());
        return m;
    }

    private static String perGib(final double v) {
        return v < 0 ? "?" : String.format(Locale.ROOT, "%.2f", v);
    }

    /** The report as Markdown: settings, one row per strategy, ratios, per-level bytes, notes. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Boot storm\n\n");
        b.append(settings.describe()).append("\n\n");
        b.append("| strategy | hosts×VMs | completed | failed | mismatched bytes | verified | p50 s | p99 s | max s"
                + " | source bytes | hit ratio | peak heap | peak RSS | cores busy | core-s/GiB | of it VMs | of it VirtMan |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (StrategyResult r : results) {
            b.append(String.format(Locale.ROOT, "| %s | %d×%d | %d | %d | %d | %s | %.2f | %.2f | %.2f | %s | %.3f | %s | %s | %s | %s | %s | %s |%n",
                    r.strategy(), r.hosts(), r.vmsPerHost(), r.bootSeconds().size(), r.failedVms(),
                    r.mismatchedBytes(), bytes(r.verifiedBytes()), r.quantile(0.5), r.quantile(0.99), r.max(),
                    bytes(r.sourceBytes()), r.cacheHitRatio(), bytes(r.peakHeapBytes()),
                    r.peakRssBytes() < 0 ? "?" : bytes(r.peakRssBytes()),
                    r.coresBusy() < 0 ? "?" : String.format(Locale.ROOT, "%.2f", r.coresBusy()),
                    perGib(r.coreSecondsPerGib()), perGib(r.vmCoreSecondsPerGib()),
                    perGib(r.virtmanCoreSecondsPerGib())));
        }
        b.append('\n');
        b.append("core-s/GiB: the process's CPU seconds (all threads: agents, source, manager, VMs, GC, JIT)"
                + " per GiB the VMs read and verified. Of it VMs: the emulated VMs' replay threads (exact)"
                + " and their iSCSI sessions' receive threads (sampled every 0.5 s); they are the bench, not"
                + " VirtMan. Of it VirtMan: the rest, less the meter's own CPU.\n\n");
        StrategyResult tree = find("tree");
        StrategyResult lone = find("lone");
        if (tree != null) {
            b.append("## Ratios\n\n");
            if (lone != null) {
                b.append(String.format(Locale.ROOT, "- tree p50 / lone-VM boot: %.2f; tree max / lone-VM boot: %.2f%n",
                        tree.quantile(0.5) / lone.max(), tree.max() / lone.max()));
                b.append(String.format(Locale.ROOT, "- tree p99 / lone-VM boot: %.2f%n", tree.quantile(0.99) / lone.max()));
            }
            if (tree.coreSecondsPerGib() > 0) {
                int cores = Runtime.getRuntime().availableProcessors();
                double gib = tree.verifiedBytes() / (1024.0 * 1024 * 1024);
                b.append(String.format(Locale.ROOT, "- CPU floor of the tree storm on %d cores: %.2f core-s/GiB × %.2f GiB"
                                + " / %d = %.1f s (VirtMan's share alone: %s s), against a p99 of %.1f s%n", cores,
                        tree.coreSecondsPerGib(), gib, cores, tree.coreSecondsPerGib() * gib / cores,
                        tree.virtmanCoreSecondsPerGib() < 0 ? "?"
                                : String.format(Locale.ROOT, "%.1f", tree.virtmanCoreSecondsPerGib() * gib / cores),
                        tree.quantile(0.99)));
            }
            for (String base : List.of("flat", "full-copy")) {
                StrategyResult other = find(base);
                if (other != null) {
                    b.append(String.format(Locale.ROOT,
                            "- %s / tree: p50 %.2f×, max %.2f×, source bytes %.2f×%n", base,
                            other.quantile(0.5) / tree.quantile(0.5), other.max() / tree.max(),
                            (double) other.sourceBytes() / Math.max(1, tree.sourceBytes())));
                }
            }
            long bound = (long) (settings.fanOut() * settings.workingSetBytes() * SOURCE_BOUND_SLACK);
            b.append(String.format(Locale.ROOT, "- tree source bytes %s vs bound fan-out × working set × 1.2 = %s: %s"
                            + " (%.2f × fan-out × working set; %.2f × fan-out × whole-chunk working set)%n",
                    bytes(tree.sourceBytes()), bytes(bound), tree.sourceBytes() <= bound ? "within" : "EXCEEDED",
                    tree.sourceBytes() / (double) (settings.fanOut() * settings.workingSetBytes()),
                    tree.sourceBytes() / (double) (settings.fanOut() * settings.chunkWorkingSetBytes())));
            StrategyResult flat = find("flat");
            if (flat != null) {
                b.append(String.format(Locale.ROOT, "- flat source bytes %s vs hosts × working set = %s (%.2f×; %.2f× hosts × whole-chunk working set)%n",
                        bytes(flat.sourceBytes()), bytes(flat.hosts() * settings.workingSetBytes()),
                        (double) flat.sourceBytes() / (flat.hosts() * settings.workingSetBytes()),
                        (double) flat.sourceBytes() / (flat.hosts() * settings.chunkWorkingSetBytes())));
            }
            for (StrategyResult r : results) {
                if (r.strategy().startsWith("tree+")) {
                    b.append(String.format(Locale.ROOT, "- %s extra time vs tree: p50 %+.2f s, p99 %+.2f s, max %+.2f s%n",
                            r.strategy(), r.quantile(0.5) - tree.quantile(0.5), r.quantile(0.99) - tree.quantile(0.99),
                            r.max() - tree.max()));
                }
            }
            StrategyResult unhedged = find("tree-unhedged");
            if (unhedged != null) {
                b.append(String.format(Locale.ROOT, "- tree (hedged) / tree-unhedged: source bytes %.3f×, p50 %.2f×,"
                                + " p99 %.2f×%n", (double) tree.sourceBytes() / Math.max(1, unhedged.sourceBytes()),
                        tree.quantile(0.5) / unhedged.quantile(0.5), tree.quantile(0.99) / unhedged.quantile(0.99)));
            }
            b.append('\n');
        }
        b.append("## Bytes fetched per tree level\n\n");
        for (StrategyResult r : results) {
            b.append("- ").append(r.strategy()).append(": ");
            r.bytesPerLevel().forEach((level, n) -> b.append("depth ").append(level).append(' ')
                    .append(bytes(n)).append("; "));
            b.append('\n');
        }
        b.append('\n');
        for (StrategyResult r : results) {
            if (!r.notes().isEmpty() || !r.errors().isEmpty()) {
                b.append("### ").append(r.strategy()).append("\n\n");
                r.notes().forEach(n -> b.append("- ").append(n).append('\n'));
                r.errors().forEach(e -> b.append("- error: ").append(e).append('\n'));
                b.append('\n');
            }
        }
        b.append("Boot-completion CDF: `storm-cdf.svg`.\n");
        return b.toString();
    }

    /** Boot completion CDF, one step line per strategy; x = seconds from the storm's start. */
    public String svg() {
        double xMax = results.stream().mapToDouble(StrategyResult::max).filter(d -> !Double.isNaN(d)).max().orElse(1);
        xMax = Math.max(xMax, 1e-3) * 1.05;
        int plotW = WIDTH - 2 * MARGIN;
        int plotH = HEIGHT - 2 * MARGIN;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\">Boot completion CDF (%s)</text>%n",
                MARGIN, escape(settings.shortDescription())));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                MARGIN, MARGIN, MARGIN, HEIGHT - MARGIN));
        int ticks = 5;
        for (int i = 0; i <= ticks; i++) {
            double x = MARGIN + plotW * i / (double) ticks;
            double y = HEIGHT - MARGIN - plotH * i / (double) ticks;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1f</text>%n",
                    x, HEIGHT - MARGIN + 16, xMax * i / ticks));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>%n",
                    MARGIN - 6, y + 4, i / (double) ticks));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds from storm start</text>%n",
                WIDTH / 2, HEIGHT - 15));
        s.append(String.format(Locale.ROOT, "<text x=\"15\" y=\"%d\" transform=\"rotate(-90 15 %d)\" text-anchor=\"middle\">"
                + "fraction of VMs booted</text>%n", HEIGHT / 2, HEIGHT / 2));
        for (int i = 0; i < results.size(); i++) {
            StrategyResult r = results.get(i);
            String color = COLORS[i % COLORS.length];
            StringBuilder points = new StringBuilder();
            points.append(String.format(Locale.ROOT, "%d,%d ", MARGIN, HEIGHT - MARGIN));
            int n = r.vms();
            double prevY = HEIGHT - MARGIN;
            for (int k = 0; k < r.bootSeconds().size(); k++) {
                double x = MARGIN + plotW * r.bootSeconds().get(k) / xMax;
                double y = HEIGHT - MARGIN - plotH * (k + 1) / (double) n;
                points.append(String.format(Locale.ROOT, "%.1f,%.1f %.1f,%.1f ", x, prevY, x, y));
                prevY = y;
            }
            s.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                    color, points.toString().trim()));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s (%d VMs)</text>%n",
                    WIDTH - MARGIN - 150, MARGIN + 16 * i + 10, color, escape(r.strategy()), n));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static String escape(final String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
