package dev.virtman.sim;

import java.util.List;
import java.util.Locale;

/** Markdown for simulation results: one row per strategy, the figures an operator asks about. */
public final class SimReport {
    private SimReport() {
    }

    public static String table(final List<SimResult> results) {
        StringBuilder b = new StringBuilder();
        b.append("| strategy | hosts×VMs | done | failed | lost | p50 s | p99 s | max s | source GB | source busy s"
                + " | tree depth | events | wall s |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (SimResult r : results) {
            b.append(String.format(Locale.ROOT, "| %s | %d×%d | %d | %d | %d | %s | %s | %s | %.2f | %.0f | %s | %d | %.1f |%n",
                    r.strategy(), r.hosts(), r.vmsPerHost(), r.completed(), r.failedVms(), r.lostVms(),
                    seconds(r.p50()), seconds(r.p99()), seconds(r.max()), r.sourceBytes() / 1e9,
                    r.sourceBusySeconds(), r.treeDepth() == 0 ? "–" : Integer.toString(r.treeDepth()), r.events(),
                    r.wallSeconds()));
        }
        return b.toString();
    }

    static String seconds(final double s) {
        if (Double.isNaN(s)) {
            return "–";
        }
        return s >= 1000 ? String.format(Locale.ROOT, "%.0f", s) : String.format(Locale.ROOT, "%.1f", s);
    }
}
