package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against libvirt's own tools (libvirt-clients: virsh, virt-xml-validate with libvirt's RNG schema).
 * No libvirtd runs on these hosts, so booting a domain is not tested here; what is tested is that
 * the XML is a valid libvirt domain and that an unreachable libvirtd is a clear error.
 */
@Tag("interop")
class LibvirtVmDriverTest {

    @TempDir
    Path dir;

    @Test
    void domainXmlValidatesAgainstLibvirtsSchema() throws Exception {
        for (Accelerator accel : Accelerator.values()) {
            Path xml = dir.resolve("domain-" + accel + ".xml");
            Files.writeString(xml, LibvirtDomainXmlTest.directKernelXml(accel));
            HostCommand.Result r = HostCommand.runAllowingFailure(List.of("virt-xml-validate", xml.toString(), "domain"),
                    Duration.ofSeconds(60));
            assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
        }
    }

    @Test
    void unreachableLibvirtdIsAClearErrorAndLeavesNothingBehind() throws Exception {
        Path raw = dir.resolve("base.raw");
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        String uri = "qemu+unix:///system?socket=" + dir.resolve("no-libvirtd.sock");
        LibvirtVmDriver driver = new LibvirtVmDriver(uri, dir.resolve("vms"), Accelerator.TCG, Clock.systemUTC());
        VmSpec spec = VmSpec.of("lv", new BootSource.DiskBoot(), VmSpec.OverlayDisk.over(raw.toString()));
        assertThatThrownBy(() -> driver.create(spec)).isInstanceOf(VmException.class)
                .hasMessageContaining("cannot define libvirt domain lv")
                .hasMessageContaining(uri)
                .hasMessageContaining("virsh");
        assertThat(dir.resolve("vms/lv")).doesNotExist();
    }
}
