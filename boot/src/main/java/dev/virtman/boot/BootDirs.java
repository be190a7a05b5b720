package dev.virtman.boot;

import java.nio.file.Path;

/** Where {@code virtman boot} keeps its state: manager database, caches, VM directories, demo image. */
public final class BootDirs {
    private BootDirs() {
    }

    /** {@code $XDG_STATE_HOME/virtman/boot}, else {@code ~/.local/state/virtman/boot}. */
    public static Path defaultWorkDir() {
        String xdg = System.getenv("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("virtman").resolve("boot");
    }

    public static Path vmDir(final Path workDir) {
        return workDir.resolve("vms");
    }
}
