package dev.virtman.manager.api;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The manager's state directory: database, manifests, API token, and the URL a running manager
 * listens on. Private to the user (mode 0700). Where it is: {@code --state-dir}, else
 * {@code $VIRTMAN_STATE_DIR}, else {@code $XDG_STATE_HOME/virtman} or {@code ~/.local/state/virtman}.
 * Clients given none of these also look in {@value #SYSTEM_DIR}, where a manager run as a system
 * service keeps its state (the directory the docs use), so a client on the manager's host finds it.
 */
public final class StateDir {

    public static final String DATABASE = "manager.db";
    public static final String MANIFESTS = "manifests";
    public static final String TOKEN = "token";
    /** Bootstrap secret that only enrols new hosts (each then gets its own token). */
    public static final String ENROL_TOKEN = "enrol-token";
    public static final String URL = "manager.url";
    public static final String IMAGES = "images";
    /** Environment variable naming the state directory, for the manager and its clients. */
    public static final String ENV = "VIRTMAN_STATE_DIR";
    /** The state directory of a manager run as a system service. */
    public static final String SYSTEM_DIR = "/var/lib/virtman";

    private final Path dir;

    public StateDir(final Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** {@code $VIRTMAN_STATE_DIR}, else {@code $XDG_STATE_HOME/virtman}, else {@code ~/.local/state/virtman}. */
    public static StateDir defaultDir() {
        return defaultDir(System::getenv);
    }

    static StateDir defaultDir(final java.util.function.UnaryOperator<String> env) {
        String named = env.apply(ENV);
        if (named != null && !named.isBlank()) {
            return new StateDir(Path.of(named));
        }
        return userDir(env);
    }

    private static StateDir userDir(final java.util.function.UnaryOperator<String> env) {
        String xdg = env.apply("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isBlank()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".local", "state");
        return new StateDir(base.resolve("virtman"));
    }

    /**
     * Where a client looks for a running manager when given no directory: {@code $VIRTMAN_STATE_DIR}
     * alone if set, else the user's directory and then {@code systemDir}.
     */
    public static java.util.List<StateDir> clientSearchPath(final java.util.function.UnaryOperator<String> env,
                                                             final Path systemDir) {
        String named = env.apply(ENV);
        if (named != null && !named.isBlank()) {
            return java.util.List.of(new StateDir(Path.of(named)));
        }
        return java.util.List.of(userDir(env), new StateDir(systemDir));
    }

    public Path path() {
        return dir;
    }

    public Path database() {
        return dir.resolve(DATABASE);
    }

    public Path manifests() {
        return dir.resolve(MANIFESTS);
    }

    /** Raw images the manager imported itself (from Glance); removed with their image. */
    public Path images() {
        return dir.resolve(IMAGES);
    }

    public Path token() {
        return dir.resolve(TOKEN);
    }

    public Path enrolToken() {
        return dir.resolve(ENROL_TOKEN);
    }

    public Path url() {
        return dir.resolve(URL);
    }

    /** Creates the directory (0700) if missing. */
    public StateDir create() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        return this;
    }

    /** Forces a file's or directory's contents and metadata to disk. */
    public static void fsync(final Path path) throws IOException {
        boolean directory = Files.isDirectory(path);
        try (FileChannel ch = FileChannel.open(path, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }
}
