package dev.virtman.openstack.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Commands;
import dev.virtman.testing.ProjectPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the Cinder driver's Python unit tests ({@code openstack/cinder/tests}): the unchanged
 * {@code virtman_cinder} driver, loaded by Debian's {@code python3-cinder}, against an HTTP
 * server on 127.0.0.1 (ephemeral port) that answers the manager's {@code /v1/images} and
 * {@code /v1/volumes} API with the Java manager's paths, status codes, JSON shapes and strict
 * request parsing. Fast (about half a minute) where {@link CinderVolumeInteropTest} runs the real
 * Cinder services end to end. Tagged interop: it needs Debian's {@code /usr/bin/python3} with the
 * OpenStack modules (the {@code python3} on a developer's PATH may lack them).
 */
@Tag("interop")
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class CinderDriverUnitTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final Duration LIMIT = Duration.ofMinutes(3);
    /** Fewer would mean discovery lost test modules: there are 35 when this was written. */
    private static final int MIN_TESTS = 30;
    private static final Pattern RAN = Pattern.compile("^Ran (\\d+) tests? in ", Pattern.MULTILINE);

    @Test
    void driverUnitTestsPass() {
        Path root = ProjectPaths.root();
        // -B: no __pycache__ in the source tree.
        Commands.Result result = Commands.run(LIMIT, root, List.of(PYTHON, "-B", "-m", "unittest", "discover",
                "-s", "openstack/cinder/tests", "-v"));

        String report = String.join(" ", result.command()) + (result.timedOut() ? " timed out after " + LIMIT
                : " exited with " + result.exitCode()) + "; output:\n" + result.output();
        assertThat(result.succeeded()).as(report).isTrue();
        Matcher ran = RAN.matcher(result.output());
        assertThat(ran.find()).as(report).isTrue();
        assertThat(Integer.parseInt(ran.group(1))).as(report).isGreaterThanOrEqualTo(MIN_TESTS);
        assertThat(result.output()).as(report).containsPattern("(?m)^OK");
    }
}
