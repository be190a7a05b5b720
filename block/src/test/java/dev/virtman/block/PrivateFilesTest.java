package dev.virtman.block;

import static dev.virtman.testing.FileModes.chmod;
import static dev.virtman.testing.FileModes.mode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.testing.FileModes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Directories 0700 and files 0600 whatever existed before, without following links. */
class PrivateFilesTest {

    @TempDir
    Path tmp;

    @Test
    void existingDirectoriesAndFilesBecomePrivate() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("a/b"));
        Path file = Files.writeString(dir.resolve("f"), "x");
        FileModes.loosen(tmp.resolve("a"));
        PrivateFiles.createDirectories(dir);
        assertThat(mode(dir)).isEqualTo("rwx------");
        PrivateFiles.createFile(file);
        assertThat(mode(file)).isEqualTo("rw-------");
        assertThat(Files.readString(file)).as("contents kept").isEqualTo("x");
        FileModes.loosen(tmp.resolve("a"));
        PrivateFiles.secureTree(tmp.resolve("a"));
        assertThat(FileModes.notPrivate(tmp.resolve("a"))).isEmpty();
    }

    @Test
    void newDirectoriesAndFilesArePrivateDespiteTheUmask() throws IOException {
        Path dir = PrivateFiles.createDirectories(tmp.resolve("x/y/z"));
        assertThat(mode(tmp.resolve("x"))).isEqualTo("rwx------");
        assertThat(mode(dir)).isEqualTo("rwx------");
        assertThat(mode(PrivateFiles.createFile(dir.resolve("new")))).isEqualTo("rw-------");
    }

    @Test
    void linksAreNotFollowedAndSharedDirectoriesAreRefused() throws IOException {
        Path outside = Files.writeString(tmp.resolve("outside"), "o");
        chmod(outside, "rw-r--r--");
        Path dir = Files.createDirectories(tmp.resolve("d"));
        Files.createSymbolicLink(dir.resolve("link"), outside);
        PrivateFiles.secureTree(dir);
        PrivateFiles.restrict(dir.resolve("link"));
        assertThat(mode(outside)).as("a link's target is left alone").isEqualTo("rw-r--r--");

        Path shared = Files.createDirectories(tmp.resolve("shared"));
        chmod(shared, "rwxrwxrwx");
        assertThatThrownBy(() -> PrivateFiles.createDirectories(shared)).hasMessageContaining("shared");
        assertThat(mode(shared)).isEqualTo("rwxrwxrwx");
    }
}
