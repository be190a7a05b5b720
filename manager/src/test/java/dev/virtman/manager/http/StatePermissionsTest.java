package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.volume.VolumeStore;
import dev.virtman.testing.FileModes;
import dev.virtman.testing.RandomFiles;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager's state is private whatever existed before: a state directory left 0755 with
 * 0644 files (an older release, a {@code cp -r}, a hand-made directory) comes back 0700/0600
 * on start, databases and their journals included; on 1ac25db {@code volumes.db} (CHAP secrets)
 * and {@code manager.db} stayed 0644.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatePermissionsTest {

    @TempDir
    Path tmp;

    @Test
    void aLooseStateDirectoryIsMadePrivateOnStart() throws Exception {
        Path state = tmp.resolve("state");
        ManagerConfig config = ManagerConfig.defaults(new StateDir(state))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withChunkSize(4096);
        Files.createDirectories(state.resolve(StateDir.IMAGES));
        Path image = RandomFiles.write(state.resolve(StateDir.IMAGES).resolve("disk.raw"), 8 * 4096, 1);
        try (ManagerServer server = ManagerServer.start(config)) {
            ManagerClient client = new ManagerClient(server.url(), server.token());
            client.registerImage("disk", image.toString());
            client.createVolume(new CreateVolumeRequest("v1", "v1", "disk", null, 0));
            assertThat(FileModes.notPrivate(state)).as("fresh state").isEmpty();
        }
        FileModes.loosen(state);
        assertThat(FileModes.mode(state.resolve(VolumeStore.FILE))).isEqualTo("rw-r--r--");
        try (ManagerServer server = ManagerServer.start(config)) {
            ManagerClient client = new ManagerClient(server.url(), server.token());
            client.createVolume(new CreateVolumeRequest("v2", "v2", "disk", null, 0));
            assertThat(FileModes.notPrivate(state)).as("after a restart over loose state").isEmpty();
            assertThat(Files.list(state).map(p -> p.getFileName().toString()).toList())
                    .contains(StateDir.DATABASE, VolumeStore.FILE, StateDir.TOKEN, StateDir.MANIFESTS, StateDir.IMAGES);
        }
    }

    @Test
    void onlyTheManagersOwnEntriesOfAStateDirectoryAreTouched() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("shared-state"));
        Path other = Files.writeString(state.resolve("someone-elses.txt"), "x");
        FileModes.chmod(other, "rw-r--r--");
        try (ManagerServer server = ManagerServer.start(ManagerConfig.defaults(new StateDir(state))
                .withListen(new InetSocketAddress("127.0.0.1", 0)))) {
            assertThat(FileModes.mode(state)).isEqualTo("rwx------");
            assertThat(FileModes.mode(state.resolve(StateDir.DATABASE))).isEqualTo("rw-------");
            assertThat(FileModes.mode(other)).isEqualTo("rw-r--r--");
            assertThat(List.of(server.token())).isNotEmpty();
        }
    }
}
