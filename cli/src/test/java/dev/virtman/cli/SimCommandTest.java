package dev.virtman.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class SimCommandTest {

    @Test
    void runPrintsOneRowPerStrategyWithExactSourceBytes() {
        StringWriter out = new StringWriter();
        int code = run(out, "run", "--hosts", "4", "--vms-per-host", "2", "--trace", "bench/traces/debian12-boot.csv",
                "--strategies", "flat,tree-2,multi-parent", "--link", "1gbit", "--time-scale", "0.1");
        assertThat(code).isZero();
        // 639 chunks of 64 KiB = 41,877,504 bytes per host: flat 4x, tree-2 2x, multi-parent once.
        assertThat(out.toString())
                .contains("| flat | 4×2 | 8 | 0 | 0 |").contains("| 0.17 |")
                .contains("| tree-2 | 4×2 | 8 | 0 | 0 |").contains("| 0.08 |")
                .contains("| multi-parent | 4×2 | 8 | 0 | 0 |").contains("| 0.04 |");
    }

    @Test
    void badInputIsAUsageError() {
        assertThat(run(new StringWriter(), "run", "--strategies", "tree-x")).isEqualTo(2);
        assertThat(run(new StringWriter(), "run", "--hosts", "0")).isEqualTo(2);
        assertThat(run(new StringWriter(), "run", "--trace", "no/such.csv")).isEqualTo(2);
        assertThat(run(new StringWriter(), "run", "--link", "fast")).isEqualTo(2);
        assertThat(run(new StringWriter(), "plan", "--scenario", "everything")).isEqualTo(2);
        assertThat(run(new StringWriter())).isEqualTo(2);
    }

    private static int run(final StringWriter out, final String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "sim";
        System.arraycopy(args, 0, all, 1, args.length);
        CommandLine cl = new CommandLine(new VirtmanCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter()));
        return cl.execute(all);
    }
}
