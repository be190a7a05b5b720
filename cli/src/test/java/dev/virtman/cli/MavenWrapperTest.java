package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.ProjectPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented {@code ./mvnw ... test} commands work as written: the wrapper picks a JDK 21+ by
 * itself (like {@code ./virtman}) when JAVA_HOME is unset or names an older JDK, where Maven would
 * otherwise run on the machine's default {@code java} (17 here) and fail on our class files.
 */
class MavenWrapperTest {
    @TempDir
    Path temp;

    @Test
    void withoutJavaHomeTheWrapperRunsMavenOnAJdk21OrNewer() throws Exception {
        assertThat(javaVersionMavenRunsOn(null)).isGreaterThanOrEqualTo(21);
    }

    @Test
    void aJavaHomeNamingAnOlderJdkIsPassedOver() throws Exception {
        Path old = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(old.resolve("bin/java")), "no JDK 17 here");
        assertThat(javaVersionMavenRunsOn(old.toString())).isGreaterThanOrEqualTo(21);
    }

    private int javaVersionMavenRunsOn(final String javaHome) throws Exception {
        Path out = temp.resolve("mvn-v.txt");
        ProcessBuilder pb = new ProcessBuilder(List.of("./mvnw", "-B", "-o", "-v"))
                .directory(ProjectPaths.root().toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().remove("JAVA_HOME");
        if (javaHome != null) {
            pb.environment().put("JAVA_HOME", javaHome);
        }
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("./mvnw -v finished").isTrue();
        String text = Files.readString(out);
        assertThat(p.exitValue()).as(text).isZero();
        var m = java.util.regex.Pattern.compile("Java version: (\\d+)").matcher(text);
        assertThat(m.find()).as(text).isTrue();
        return Integer.parseInt(m.group(1));
    }
}
