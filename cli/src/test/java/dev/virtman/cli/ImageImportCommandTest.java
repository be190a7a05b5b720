package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.TokenFiles;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.testing.GlanceProcess;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code virtman image import --glance URL IMAGE_ID} in-process against a real Glance
 * ({@link GlanceProcess}) and a manager on loopback.
 */
@Tag("interop")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ImageImportCommandTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;
    private GlanceProcess glance;
    private ManagerServer manager;

    private record Run(int exit, String out, String err) { }

    @BeforeEach
    void start() throws IOException {
        glance = GlanceProcess.shared();
        manager = ManagerServer.start(ManagerConfig.defaults(new StateDir(tmp.resolve("state")))
                .withImageDirs(List.of(tmp))
                .withListen(new InetSocketAddress("127.0.0.1", 0)));
    }

    @AfterEach
    void stop() {
        if (manager != null) {
            manager.close();
        }
    }

    private Run importImage(final String glanceId, final String... extra) {
        List<String> args = new ArrayList<>(List.of("image", "import", "--manager", manager.url().toString(),
                "--token-file", manager.tokenFile().toString(), "--glance", glance.url().toString(), "--dir", tmp.resolve("images").toString()));
        args.addAll(List.of(extra));
        args.add(glanceId);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new VirtmanCommand());
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute(args.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void importsVerifiedThenReimportIsANoOpAndANewUploadIsVersionTwo() throws Exception {
        Path file = RandomFiles.write(tmp.resolve("db.raw"), 3 * MIB, 41);
        String first = glance.upload("db server", "raw", file);

        Run r = importImage(first);

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("is image db-server (version 1 of db-server)").contains("source target iqn.");
        assertThat(r.err()).contains("verifying size, sha512, md5").contains("(100%)");
        ManagerClient client = new ManagerClient(manager.url(), manager.token());
        ImageView v1 = client.image("db-server");
        assertThat(Files.mismatch(Path.of(v1.path()), file)).isEqualTo(-1L);
        assertThat(Path.of(v1.path()).getParent()).isEqualTo(tmp.resolve("images"));

        Run again = importImage(first);
        assertThat(again.exit()).isZero();
        assertThat(again.out()).contains("already imported as db-server").contains("nothing to do");
        assertThat(files(tmp.resolve("images"))).hasSize(1);

        String second = glance.upload("db server", "raw", RandomFiles.write(tmp.resolve("db2.raw"), 3 * MIB, 42));
        Run v2 = importImage(second);
        assertThat(v2.exit()).as(v2.err()).isZero();
        assertThat(v2.out()).contains("is image db-server.v2 (version 2 of db-server)");
        assertThat(client.images()).extracting(ImageView::name).containsExactlyInAnyOrder("db-server", "db-server.v2");
    }

    @Test
    void corruptedDownloadFailsWithAClearErrorAndLeavesNothing() throws Exception {
        String id = glance.upload("broken", "raw", RandomFiles.write(tmp.resolve("broken.raw"), 2 * MIB, 43));
        try (RandomAccessFile stored = new RandomAccessFile(glance.storedFile(id).toFile(), "rw")) {
            stored.seek(stored.length() - 1);
            int last = stored.read();
            stored.seek(stored.length() - 1);
            stored.write(~last);
        }

        Run r = importImage(id, "--name", "broken");

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("virtman: Glance image " + id)
                .contains("downloaded data does not match what Glance recorded").contains("nothing imported");
        assertThat(new ManagerClient(manager.url(), manager.token()).images()).isEmpty();
        assertThat(files(tmp.resolve("images"))).isEmpty();
    }

    @Test
    void passwordAuthWithoutAProjectIsAUsageError() throws IOException {
        Path password = tmp.resolve("os-password");
        TokenFiles.write(password, "p");
        Run r = importImage("6f1c3b1e-1111-4222-8333-944455556666", "--os-auth-url", "http://127.0.0.1:1/v3",
                "--os-username", "u", "--os-password-file", password.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--os-project-name");
    }

    /** Issue 12, secrets in ps: a Keystone password or token on the command line is refused, not echoed. */
    @Test
    void keystoneSecretsOnTheCommandLineAreRefused() {
        for (String option : List.of("--os-password", "--os-token")) {
            Run r = importImage("6f1c3b1e-1111-4222-8333-944455556666", "--os-auth-url", "http://127.0.0.1:1/v3",
                    "--os-username", "u", option, "hunter2", "--os-project-name", "p");
            assertThat(r.exit()).as(option).isEqualTo(2);
            assertThat(r.err()).contains(option + " VALUE was removed").contains(option + "-file FILE")
                    .doesNotContain("hunter2");
        }
    }

    private static List<Path> files(final Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
