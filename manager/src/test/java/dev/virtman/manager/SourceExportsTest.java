package dev.virtman.manager;

import dev.virtman.manager.api.TargetNames;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code virtman manager --serve-source}: a registered image is readable over iSCSI (our
 * initiator) from the manager's own source target under the IQN parent lists name, byte for byte;
 * a removed image no longer is.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SourceExportsTest {
    private static final int CHUNK = 64 << 10;
    private static final int IMAGE_BYTES = 40 * CHUNK;

    @TempDir
    Path tmp;

    @Test
    void servesRegisteredImagesAndWithdrawsRemovedOnes() throws Exception {
        byte[] data = new byte[IMAGE_BYTES];
        new Random(5).nextBytes(data);
        Path image = Files.write(tmp.resolve("disk.raw"), data);
        ManagerConfig config = ManagerConfig.defaults(new StateDir(tmp.resolve("state")))
                .withImageDirs(List.of(tmp))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:3260", Locality.UNKNOWN)
                .withChunkSize(CHUNK);
        try (ManagerServer server = ManagerServer.start(config);
             SourceExports source = SourceExports.start(server.manager(), new InetSocketAddress("127.0.0.1", 0))) {
            ManagerClient client = new ManagerClient(server.url(), server.token());
            ImageView view = client.registerImage("disk", image.toString());
            client.registerHost("reader", "127.0.0.2:3260", null); // the source admits registered hosts only
            source.reconcile();
            String url = "iscsi://127.0.0.1:" + source.portal().getPort() + "/" + view.sourceIqn() + "/0";
            InitiatorOptions options = InitiatorOptions.defaults().withInitiatorName(TargetNames.hostInitiator("reader"));
            try (IscsiBlockDevice disk = IscsiBlockDevice.open(IscsiUrl.parse(url), options)) {
                assertThat(disk.size()).isEqualTo(IMAGE_BYTES);
                ByteBuffer all = ByteBuffer.allocate(IMAGE_BYTES);
                disk.read(0, all);
                assertThat(all.array()).isEqualTo(data);
            }
            assertThat(source.bytesServed()).isEqualTo(IMAGE_BYTES);

            client.removeImage(view.id());
            source.reconcile();
            assertThatThrownBy(() -> IscsiBlockDevice.open(IscsiUrl.parse(url), options))
                    .isInstanceOf(IOException.class);
        }
    }
}
