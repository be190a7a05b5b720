package dev.virtman.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** Usage errors of {@code virtman boot}, caught before anything starts. */
class BootCommandTest {

    private static final String[] err = new String[1];

    private static int run(final String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "boot";
        System.arraycopy(args, 0, all, 1, args.length);
        CommandLine cl = new CommandLine(new VirtmanCommand());
        StringWriter e = new StringWriter();
        cl.setErr(new PrintWriter(e));
        int code = cl.execute(all);
        err[0] = e.toString();
        return code;
    }

    @Test
    void hostNamesNeedAManagerAndManagedBootsRefuseEmbeddedOnlyOptions() {
        assertThat(run("--hosts", "h1,h2")).isEqualTo(2);
        assertThat(err[0]).contains("host names need --manager URL");
        assertThat(run("--manager", "http://127.0.0.1:1", "--token-file", "t", "--hosts", "h1,Bad_Host")).isEqualTo(2);
        assertThat(err[0]).contains("'Bad_Host' is not a host id");
        assertThat(run("--manager", "http://127.0.0.1:1", "--token-file", "t", "--hosts", "h1", "--cold")).isEqualTo(2);
        assertThat(run("--manager", "http://127.0.0.1:1", "--token-file", "t", "--hosts", "h1", "--verify-cache"))
                .isEqualTo(2);
        assertThat(run("--manager", "http://127.0.0.1:1", "--token-file", "t", "--hosts", "h1", "--libvirt", "qemu:///system"))
                .isEqualTo(2);
        assertThat(err[0]).contains("virtman agent --vm-dir DIR --libvirt URI");
        assertThat(run("--hosts", "0")).isEqualTo(2);
    }

    /** Issue 12, "token in ps": a token on the command line is refused, and not echoed back. */
    @Test
    void refusesATokenOnTheCommandLine() {
        assertThat(run("--manager", "http://127.0.0.1:1", "--token", "s3cret-value", "--hosts", "h1")).isEqualTo(2);
        assertThat(err[0]).contains("--token VALUE was removed").contains("--token-file FILE")
                .doesNotContain("s3cret-value");
    }
}
