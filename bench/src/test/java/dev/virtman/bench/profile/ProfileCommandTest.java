package dev.virtman.bench.profile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Event;
import jdk.jfr.Name;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A real JFR recording of a SHA-256 loop inside a strategy window becomes a flame graph and a
 * table that charges the samples to SHA-256; samples outside the window are left out.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProfileCommandTest {
    @TempDir
    Path dir;

    /** Same name as the storm bench's window event, so the profile tool finds it. */
    @Name(CpuProfile.WINDOW_EVENT)
    static final class Window extends Event {
        String strategy;
    }

    @Test
    void aRecordedHashLoopIsChargedToSha256InsideItsWindow() throws Exception {
        Path jfr = dir.resolve("r.jfr");
        try (Recording r = new Recording()) {
            r.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
            r.enable(CpuProfile.WINDOW_EVENT);
            r.start();
            spin("before", 300); // outside any window: must not count
            Window w = new Window();
            w.strategy = "tree";
            w.begin();
            long samplesWanted = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            while (System.nanoTime() < samplesWanted) {
                hash();
            }
            w.commit();
            r.stop();
            r.dump(jfr);
        }
        Path out = dir.resolve("out");
        int rc = new CommandLine(new ProfileCommand()).execute("--jfr", jfr.toString(), "--window", "tree",
                "--out", out.toString());
        assertThat(rc).isZero();
        CpuProfile p = CpuProfile.read(jfr, "tree");
        assertThat(p.samples()).isNotEmpty();
        long sha = p.byCategory().get(CostCategory.SHA256);
        assertThat(sha).as("most samples in the window are the hash loop").isGreaterThan(p.samples().size() / 2);
        assertThat(p.samples()).noneMatch(s -> s.rootFirst().stream().anyMatch(f -> f.contains("spin")));
        assertThat(Files.readString(out.resolve("flame.svg"))).startsWith("<svg").contains("SHA-256 of fetched chunks");
        assertThat(Files.readString(out.resolve("profile.md"))).contains("| SHA-256 of fetched chunks | " + sha + " |");
        assertThat(Files.readString(out.resolve("collapsed.txt"))).contains("SHA-256 of fetched chunks;");
    }

    private static void spin(final String what, final long millis) {
        long end = System.nanoTime() + Duration.ofMillis(millis).toNanos();
        long x = what.hashCode();
        while (System.nanoTime() < end) {
            x = x * 31 + 7;
        }
        if (x == 42) {
            System.out.println(what);
        }
    }

    private static byte[] hash() throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        byte[] data = new byte[1 << 16];
        byte[] out = null;
        for (int i = 0; i < 16; i++) {
            d.update(data);
            out = d.digest();
        }
        return out;
    }
}
