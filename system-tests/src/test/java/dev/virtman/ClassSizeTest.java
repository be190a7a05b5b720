package dev.virtman;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.ProjectPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No main source file of any module is longer than {@value #MAX_LINES} lines: a class that grows
 * past it has taken on a second job (docs/architecture.md; STYLE.md's small classes with one job)
 * and is split before it lands, not after.
 */
class ClassSizeTest {
    private static final int MAX_LINES = 500;

    @Test
    void noMainSourceFileIsLongerThanTheLimit() throws IOException {
        Path root = ProjectPaths.root();
        List<String> tooLong;
        try (Stream<Path> modules = Files.list(root)) {
            tooLong = modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory)
                    .flatMap(ClassSizeTest::javaFiles)
                    .filter(f -> lines(f) > MAX_LINES)
                    .map(f -> root.relativize(f) + " (" + lines(f) + " lines)")
                    .sorted()
                    .toList();
        }
        assertThat(tooLong).as("main source files over %d lines: split them", MAX_LINES).isEmpty();
    }

    private static Stream<Path> javaFiles(final Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long lines(final Path file) {
        try (Stream<String> lines = Files.lines(file)) {
            return lines.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
