package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Await;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.RandomFiles;
import dev.virtman.testing.VirtmanManagerProcess;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Step 1 of docs/openstack.md as an operator types it: {@code virtman manager --listen ...
 * --state-dir ... --serve-source --source-portal IP:3260 --glance-url ...} in its own JVM (local
 * addresses and a temporary state directory substituted). The manager must start, and its source
 * target must answer libiscsi's discovery and serve a registered image byte for byte. On
 * 1ac25db the process exited with "cannot serve the source target on 127.0.0.1:PORT: null".
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ManagerServeSourceCommandTest {
    private static final int IMAGE_BYTES = 24 * 65_536;

    @TempDir
    Path tmp;

    @Test
    void theDocumentedServeSourceManagerStartsAndItsSourceTargetServesImages() throws Exception {
        Path state = tmp.resolve("state");
        int sourcePort = FreePorts.loopbackPort();
        try (VirtmanManagerProcess manager = VirtmanManagerProcess.start(tmp.resolve("manager.log"), List.of(
                "--listen", "127.0.0.1:0", "--state-dir", state.toString(), "--serve-source",
                "--source-portal", "127.0.0.1:" + sourcePort, "--glance-url", "http://127.0.0.1:9"))) {
            assertThat(manager.sourcePort()).isEqualTo(sourcePort);
            Files.createDirectories(state.resolve("images"));
            Path image = RandomFiles.write(state.resolve("images").resolve("disk.raw"), IMAGE_BYTES, 7);
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView view = client.registerImage("disk", image.toString());
            client.registerHost("reader", "127.0.0.2:3260", null); // the source admits registered hosts only

            String portal = "iscsi://127.0.0.1:" + sourcePort;
            String reader = TargetNames.hostInitiator("reader");
            String listing = awaitListed(portal, reader, view.sourceIqn());
            assertThat(listing).contains(view.sourceIqn());

            InitiatorOptions options = InitiatorOptions.defaults().withInitiatorName(reader);
            try (IscsiBlockDevice disk = IscsiBlockDevice.open(IscsiUrl.parse(portal + "/" + view.sourceIqn() + "/0"),
                    options)) {
                ByteBuffer all = ByteBuffer.allocate(IMAGE_BYTES);
                disk.read(0, all);
                assertThat(all.array()).isEqualTo(Files.readAllBytes(image));
            }
        }
    }

    /** The source target follows registrations within a reconcile pass; wait for it to list the image. */
    private static String awaitListed(final String portal, final String initiator, final String iqn)
            throws InterruptedException {
        return Await.until("the source target listing " + iqn, Duration.ofSeconds(30),
                () -> Commands.run(Duration.ofSeconds(20), "iscsi-ls", "-i", initiator, portal),
                result -> result.succeeded() && result.output().contains(iqn)).output();
    }
}
