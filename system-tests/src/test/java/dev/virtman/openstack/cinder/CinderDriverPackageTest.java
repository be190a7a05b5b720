package dev.virtman.openstack.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Commands;
import dev.virtman.testing.ProjectPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Cinder driver as a Debian package ({@code openstack/cinder/build-deb}), the install path
 * docs/openstack.md gives for Debian 12, where {@code pip install} into the system Python is
 * refused (PEP 668): the package's files land in {@code /usr/lib/python3/dist-packages}, Debian's
 * {@code /usr/bin/python3} with {@code python3-cinder} imports the driver from there, and apt
 * resolves its dependencies from Debian (simulated: nothing is installed on this machine).
 */
@Tag("interop")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CinderDriverPackageTest {
    private static final Duration LIMIT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    void theDebianPackageInstallsADriverCinderCanImport() throws Exception {
        Path root = ProjectPaths.root();
        Commands.Result built = Commands.run(LIMIT, root, List.of("openstack/cinder/build-deb", dir.toString())).requireSuccess();
        Path deb = Path.of(built.output().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertThat(deb).isRegularFile().hasFileName("python3-virtman-cinder_1.0.0_all.deb");

        assertThat(Commands.run(LIMIT, dir, List.of("dpkg-deb", "-f", deb.toString(), "Depends")).requireSuccess().output())
                .contains("python3-cinder");
        Path unpacked = dir.resolve("root");
        Commands.run(LIMIT, dir, List.of("dpkg-deb", "-x", deb.toString(), unpacked.toString())).requireSuccess();
        Path sitePackages = unpacked.resolve("usr/lib/python3/dist-packages");
        assertThat(sitePackages.resolve("virtman_cinder/driver.py")).isRegularFile();

        Commands.Result imported = Commands.run(LIMIT, dir, List.of("env", "PYTHONPATH=" + sitePackages, "/usr/bin/python3",
                "-B", "-c", "import virtman_cinder.driver as d; print(d.__file__, d.VirtmanDriver.__name__)")).requireSuccess();
        assertThat(imported.output()).contains(sitePackages.resolve("virtman_cinder/driver.py").toString())
                .contains("VirtmanDriver");

        Commands.Result apt = Commands.run(LIMIT, dir, List.of("apt-get", "-s", "-o", "Debug::NoLocking=1", "install",
                deb.toString())).requireSuccess();
        assertThat(apt.output()).contains("Inst python3-virtman-cinder");
    }
}
