package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPath;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class LibvirtDomainXmlTest {

    private static final VmSpec.OverlayDisk DISK = VmSpec.OverlayDisk.over("iscsi://127.0.0.1:3260/iqn.2026-11.dev.virtman:img/1");

    static String directKernelXml(final Accelerator accel) {
        VmSpec spec = new VmSpec("web-1", new BootSource.DirectKernel(Path.of("/k/vmlinuz"), Path.of("/k/initrd.img"),
                "root=/dev/vda rw console=ttyS0 virtman.write=a<b&c"), 768, 2, DISK, GuestMarker.UP);
        return LibvirtDomainXml.render(spec, accel, Path.of("/vms/web-1/disk.qcow2"), Path.of("/vms/web-1/serial.log"));
    }

    private static Document parse(final String xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void directKernelDomainHasOverlayDiskSerialLogAndEscapedCmdline() throws Exception {
        Document d = parse(directKernelXml(Accelerator.TCG));
        XPath x = XPathFactory.newInstance().newXPath();
        assertThat(x.evaluate("/domain/@type", d)).isEqualTo("qemu");
        assertThat(x.evaluate("/domain/name", d)).isEqualTo("web-1");
        assertThat(x.evaluate("/domain/memory[@unit='MiB']", d)).isEqualTo("768");
        assertThat(x.evaluate("/domain/vcpu", d)).isEqualTo("2");
        assertThat(x.evaluate("/domain/os/type[@arch='x86_64']", d)).isEqualTo("hvm");
        assertThat(x.evaluate("/domain/os/kernel", d)).isEqualTo("/k/vmlinuz");
        assertThat(x.evaluate("/domain/os/initrd", d)).isEqualTo("/k/initrd.img");
        // Markup characters in the command line survive the round trip.
        assertThat(x.evaluate("/domain/os/cmdline", d)).isEqualTo("root=/dev/vda rw console=ttyS0 virtman.write=a<b&c");
        assertThat(x.evaluate("/domain/features/acpi", d)).isEmpty();
        assertThat(x.evaluate("count(/domain/features/acpi)", d)).isEqualTo("1");
        assertThat(x.evaluate("/domain/on_reboot", d)).isEqualTo("destroy");
        assertThat(x.evaluate("/domain/devices/disk[@device='disk']/driver/@type", d)).isEqualTo("qcow2");
        assertThat(x.evaluate("/domain/devices/disk/source/@file", d)).isEqualTo("/vms/web-1/disk.qcow2");
        assertThat(x.evaluate("/domain/devices/disk/target/@dev", d)).isEqualTo("vda");
        assertThat(x.evaluate("/domain/devices/disk/target/@bus", d)).isEqualTo("virtio");
        assertThat(x.evaluate("/domain/devices/serial[@type='file']/source/@path", d)).isEqualTo("/vms/web-1/serial.log");
        // the iSCSI base is spelled out, so that libvirt can give QEMU the VM's own initiator name
        assertThat(x.evaluate("/domain/devices/disk/backingStore/@type", d)).isEqualTo("network");
        assertThat(x.evaluate("/domain/devices/disk/backingStore/format/@type", d)).isEqualTo("raw");
        assertThat(x.evaluate("/domain/devices/disk/backingStore/source/@protocol", d)).isEqualTo("iscsi");
        assertThat(x.evaluate("/domain/devices/disk/backingStore/source/@name", d)).isEqualTo("iqn.2026-11.dev.virtman:img/1");
        assertThat(x.evaluate("/domain/devices/disk/backingStore/source/host/@name", d)).isEqualTo("127.0.0.1");
        assertThat(x.evaluate("/domain/devices/disk/backingStore/source/host/@port", d)).isEqualTo("3260");
        assertThat(x.evaluate("/domain/devices/disk/backingStore/source/initiator/iqn/@name", d))
                .isEqualTo("iqn.2026-11.dev.virtman:vm.web-1");
        assertThat(x.evaluate("count(/domain/devices/disk/backingStore/backingStore)", d)).isEqualTo("1");
    }

    @Test
    void localBaseIsLeftToTheOverlaysHeader() throws Exception {
        VmSpec spec = VmSpec.of("d", new BootSource.DiskBoot(), VmSpec.OverlayDisk.over("/images/base.raw"));
        Document d = parse(LibvirtDomainXml.render(spec, Accelerator.TCG, Path.of("/o.qcow2"), Path.of("/s.log")));
        assertThat(XPathFactory.newInstance().newXPath().evaluate("count(/domain/devices/disk/backingStore)", d))
                .isEqualTo("0");
    }

    @Test
    void diskBootAndKvm() throws Exception {
        VmSpec spec = VmSpec.of("d", new BootSource.DiskBoot(), DISK);
        Document d = parse(LibvirtDomainXml.render(spec, Accelerator.KVM, Path.of("/o.qcow2"), Path.of("/s.log")));
        XPath x = XPathFactory.newInstance().newXPath();
        assertThat(x.evaluate("/domain/@type", d)).isEqualTo("kvm");
        assertThat(x.evaluate("/domain/os/boot/@dev", d)).isEqualTo("hd");
        assertThat(x.evaluate("count(/domain/os/kernel)", d)).isEqualTo("0");
    }
}
