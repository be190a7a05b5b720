package dev.virtman.openstack.glance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.cli.VirtmanCommand;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.client.TokenFiles;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.openstack.glance.GlanceException.Kind;
import dev.virtman.testing.GlanceProcess;
import dev.virtman.testing.KeystoneProcess;
import dev.virtman.testing.RandomFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Glance behind a real Keystone: Debian's glance-api with the keystone paste flavor
 * (keystonemiddleware validating every token) and Debian's Keystone ({@link KeystoneProcess}),
 * both on loopback. Imports authenticate with Keystone v3 password auth or a given token; no
 * token, a wrong password and a revoked token are handled.
 */
@Tag("interop")
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class KeystoneGlanceInteropTest {

    private static KeystoneProcess keystone;
    private static GlanceProcess glance;
    private static String imageId;
    private static Path uploaded;

    @TempDir
    Path dir;

    @BeforeAll
    static void start(@TempDir final Path shared) throws Exception {
        keystone = KeystoneProcess.start();
        glance = GlanceProcess.start(keystone);
        uploaded = RandomFiles.write(shared.resolve("img.raw"), 1 << 20, 51);
        imageId = glance.upload("secured", "raw", uploaded);
    }

    @AfterAll
    static void stop() {
        if (glance != null) {
            glance.close();
        }
        if (keystone != null) {
            keystone.close();
        }
    }

    private KeystonePasswordAuth.Credentials admin(final String password) {
        return new KeystonePasswordAuth.Credentials(keystone.url().resolve("/v3"), KeystoneProcess.ADMIN, password,
                KeystoneProcess.DOMAIN, KeystoneProcess.ADMIN, KeystoneProcess.DOMAIN);
    }

    @Test
    void passwordAuthImportsAndARevokedTokenIsRenewed() {
        KeystonePasswordAuth auth = new KeystonePasswordAuth(admin(keystone.adminPassword()));
        GlanceClient client = new GlanceClient(glance.url(), auth);
        GlanceImporter importer = new GlanceImporter(client, new Qcow2Converter());

        Path raw = importer.fetch(importer.describe(imageId), dir, GlanceImporter.Progress.NONE);
        assertThat(raw).hasSameBinaryContentAs(uploaded);

        String first = auth.token();
        keystone.revoke(first);
        assertThat(client.image(imageId).id()).as("a 401 gets a fresh token and one retry").isEqualTo(imageId);
        assertThat(auth.token()).isNotEqualTo(first);
    }

    @Test
    void noTokenAWrongPasswordAndAFixedRevokedTokenAreClearErrors() {
        assertThatThrownBy(() -> new GlanceClient(glance.url(), TokenSource.NONE).image(imageId))
                .isInstanceOfSatisfying(GlanceException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED);
                    assertThat(e.getMessage()).contains("HTTP 401").contains("--os-token");
                });
        assertThatThrownBy(() -> new GlanceClient(glance.url(), new KeystonePasswordAuth(admin("wrong"))).image(imageId))
                .isInstanceOfSatisfying(GlanceException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED);
                    assertThat(e.getMessage()).contains("Keystone").contains("refused the credentials");
                });
        String token = keystone.issueAdminToken();
        GlanceClient fixed = new GlanceClient(glance.url(), TokenSource.fixed(token));
        assertThat(fixed.image(imageId).id()).isEqualTo(imageId);
        keystone.revoke(token);
        assertThatThrownBy(() -> fixed.image(imageId)).isInstanceOfSatisfying(GlanceException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED));
    }

    @Test
    void cliImportsWithTheOsOptions() throws Exception {
        try (ManagerServer manager = ManagerServer.start(ManagerConfig.defaults(new StateDir(dir.resolve("state")))
                .withImageDirs(List.of(dir))
                .withListen(new InetSocketAddress("127.0.0.1", 0)))) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cmd = new CommandLine(new VirtmanCommand());
            cmd.setOut(new PrintWriter(out));
            cmd.setErr(new PrintWriter(err));
            Path passwordFile = dir.resolve("os-password");
            TokenFiles.write(passwordFile, keystone.adminPassword());
            int exit = cmd.execute("image", "import", "--manager", manager.url().toString(), "--token-file",
                    manager.tokenFile().toString(), "--glance", glance.url().toString(), "--dir", dir.resolve("images").toString(),
                    "--os-auth-url", keystone.url().toString(), "--os-username", KeystoneProcess.ADMIN,
                    "--os-password-file", passwordFile.toString(), "--os-project-name", KeystoneProcess.ADMIN, imageId);
            assertThat(exit).as(err.toString()).isZero();
            assertThat(out.toString()).contains("is image secured (version 1 of secured)");
            assertThat(Files.mismatch(Path.of(manager.manager().image("secured").path()), uploaded)).isEqualTo(-1L);
        }
    }
}
