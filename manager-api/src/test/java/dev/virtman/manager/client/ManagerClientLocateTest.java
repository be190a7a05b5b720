package dev.virtman.manager.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.StateDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients find a manager started the way the docs start it ({@code --state-dir /var/lib/virtman}):
 * through {@code $VIRTMAN_STATE_DIR}, or by looking in the system directory after the user's own.
 */
class ManagerClientLocateTest {
    @TempDir
    Path temp;

    @Test
    void virtmanStateDirNamesTheManagersDirectory() throws IOException {
        Path managerDir = runningManager(temp.resolve("var-lib-virtman"), "http://127.0.0.1:7171");
        UnaryOperator<String> env = Map.of(StateDir.ENV, managerDir.toString(), "XDG_STATE_HOME", temp.resolve("xdg").toString())::get;

        ManagerClient client = ManagerLocator.locate(null, null, StateDir.clientSearchPath(env, temp.resolve("nowhere")), env);

        assertThat(client.base().toString()).isEqualTo("http://127.0.0.1:7171");
    }

    @Test
    void theSystemDirectoryIsSearchedAfterTheUsersOwn() throws IOException {
        Path system = runningManager(temp.resolve("system"), "http://127.0.0.1:7272");
        UnaryOperator<String> env = Map.of("XDG_STATE_HOME", temp.resolve("xdg").toString())::get;

        ManagerClient client = ManagerLocator.locate(null, null, StateDir.clientSearchPath(env, system), env);

        assertThat(client.base().toString()).isEqualTo("http://127.0.0.1:7272");
    }

    @Test
    void theUsersOwnManagerWinsOverTheSystemOne() throws IOException {
        Path system = runningManager(temp.resolve("system"), "http://127.0.0.1:7272");
        runningManager(temp.resolve("xdg/virtman"), "http://127.0.0.1:7373");
        UnaryOperator<String> env = Map.of("XDG_STATE_HOME", temp.resolve("xdg").toString())::get;

        ManagerClient client = ManagerLocator.locate(null, null, StateDir.clientSearchPath(env, system), env);

        assertThat(client.base().toString()).isEqualTo("http://127.0.0.1:7373");
    }

    @Test
    void noManagerAnywhereSaysWhereItLookedAndWhatToPass() {
        UnaryOperator<String> env = Map.of("XDG_STATE_HOME", temp.resolve("xdg").toString())::get;

        assertThatThrownBy(() -> ManagerLocator.locate(null, null, StateDir.clientSearchPath(env, temp.resolve("system")), env))
                .hasMessageContaining("--state-dir DIR or " + StateDir.ENV)
                .hasMessageContaining(temp.resolve("xdg/virtman/manager.url").toString())
                .hasMessageContaining(temp.resolve("system/manager.url").toString());
    }

    private static Path runningManager(final Path dir, final String url) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(StateDir.URL), url + "\n");
        Files.writeString(dir.resolve(StateDir.TOKEN), "t0ken-abcdefghijklmnopqrstuvwxyz0123456789ab\n");
        Files.setPosixFilePermissions(dir.resolve(StateDir.TOKEN), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return dir;
    }
}
