package dev.virtman.vm;

import dev.virtman.iscsi.initiator.IscsiUrl;
import java.io.StringWriter;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The libvirt domain XML for one VM (https://libvirt.org/formatdomain.html), built as a DOM so that
 * names, paths and kernel command lines are escaped correctly whatever they contain.
 *
 * <pre>
 * &lt;domain type="qemu|kvm"&gt;
 *   &lt;name/&gt; &lt;memory unit="MiB"/&gt; &lt;vcpu/&gt;
 *   &lt;os&gt; &lt;type arch="x86_64"&gt;hvm&lt;/type&gt; (&lt;kernel/&gt; &lt;initrd/&gt; &lt;cmdline/&gt; | &lt;boot dev="hd"/&gt;) &lt;/os&gt;
 *   &lt;features&gt;&lt;acpi/&gt;&lt;/features&gt;            ACPI: lets "virsh shutdown" power the guest down
 *   &lt;on_poweroff/on_reboot/on_crash&gt;destroy  like QEMU's -no-reboot: the domain ends, never loops
 *   &lt;devices&gt;
 *     &lt;emulator/&gt;
 *     &lt;disk type="file" device="disk"&gt; qcow2 overlay, virtio, vda
 *       [&lt;backingStore type="network"&gt; raw, iSCSI portal + target/LUN + the VM's initiator name &lt;/backingStore&gt;]
 *     &lt;/disk&gt;
 *     &lt;serial type="file"&gt; the guest's console, appended to the VM's serial log &lt;/serial&gt;
 *   &lt;/devices&gt;
 * &lt;/domain&gt;
 * </pre>
 * A local backing file is left to libvirt to read from the overlay's qcow2 header. An
 * {@code iscsi://} backing is spelled out as a network {@code backingStore}, because only there can
 * libvirt be given the VM's own iSCSI initiator name ({@link VmSpec#initiatorName()}), which lets
 * the agent time the VM's first read; libvirt uses a chain given in the XML as it is.
 */
public final class LibvirtDomainXml {

    static final String EMULATOR = "/usr/bin/qemu-system-x86_64";

    private LibvirtDomainXml() {
    }

    /** The domain document for {@code spec}, its disk at {@code overlay}, its console to {@code serialLog}. */
    public static String render(final VmSpec spec, final Accelerator accel, final Path overlay, final Path serialLog) {
        Document d;
        try {
            d = DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML support is broken", e);
        }
        Element domain = d.createElement("domain");
        domain.setAttribute("type", accel == Accelerator.KVM ? "kvm" : "qemu");
        d.appendChild(domain);
        child(domain, "name", spec.name());
        child(domain, "memory", Integer.toString(spec.memoryMiB())).setAttribute("unit", "MiB");
        child(domain, "vcpu", Integer.toString(spec.vcpus()));

        Element os = child(domain, "os", null);
        child(os, "type", "hvm").setAttribute("arch", "x86_64");
        switch (spec.boot()) {
            case BootSource.DirectKernel k -> {
                child(os, "kernel", k.kernel().toAbsolutePath().toString());
                child(os, "initrd", k.initrd().toAbsolutePath().toString());
                child(os, "cmdline", k.append());
            }
            case BootSource.DiskBoot b -> child(os, "boot", null).setAttribute("dev", "hd");
        }
        child(child(domain, "features", null), "acpi", null);
        child(domain, "on_poweroff", "destroy");
        child(domain, "on_reboot", "destroy");
        child(domain, "on_crash", "destroy");

        Element devices = child(domain, "devices", null);
        child(devices, "emulator", EMULATOR);
        Element disk = child(devices, "disk", null);
        disk.setAttribute("type", "file");
        disk.setAttribute("device", "disk");
        Element driver = child(disk, "driver", null);
        driver.setAttribute("name", "qemu");
        driver.setAttribute("type", "qcow2");
        child(disk, "source", null).setAttribute("file", overlay.toAbsolutePath().toString());
        if (spec.overIscsi()) {
            iscsiBackingStore(disk, spec);
        }
        Element target = child(disk, "target", null);
        target.setAttribute("dev", "vda");
        target.setAttribute("bus", "virtio");

        Element serial = child(devices, "serial", null);
        serial.setAttribute("type", "file");
        Element source = child(serial, "source", null);
        source.setAttribute("path", serialLog.toAbsolutePath().toString());
        source.setAttribute("append", "on");
        child(serial, "target", null).setAttribute("port", "0");
        return serialize(d);
    }

    /**
     * {@code <backingStore type="network">} for an {@code iscsi://HOST:PORT/IQN/LUN} base: source
     * name {@code IQN/LUN}, the portal as host, and the VM's initiator name; an empty
     * {@code <backingStore/>} ends the chain.
     */
    private static void iscsiBackingStore(final Element disk, final VmSpec spec) {
        IscsiUrl url;
        try {
            url = IscsiUrl.parse(spec.disk().backing());
        } catch (IllegalArgumentException e) {
            throw new VmException("bad iSCSI base for " + spec.name() + ": " + e.getMessage(), e);
        }
        Element backing = child(disk, "backingStore", null);
        backing.setAttribute("type", "network");
        child(backing, "format", null).setAttribute("type", "raw");
        Element source = child(backing, "source", null);
        source.setAttribute("protocol", "iscsi");
        source.setAttribute("name", url.targetName() + "/" + url.lun());
        Element host = child(source, "host", null);
        host.setAttribute("name", url.host());
        host.setAttribute("port", Integer.toString(url.port()));
        child(child(source, "initiator", null), "iqn", null).setAttribute("name", spec.initiatorName());
        child(backing, "backingStore", null);
    }

    private static Element child(final Element parent, final String name, final String text) {
        Element e = parent.getOwnerDocument().createElement(name);
        if (text != null) {
            e.setTextContent(text);
        }
        parent.appendChild(e);
        return e;
    }

    private static String serialize(final Document d) {
        try {
            var t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.INDENT, "yes");
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            t.setOutputProperty("{http://xml.apache.org/xslt}indent-amount", "2");
            StringWriter w = new StringWriter();
            t.transform(new DOMSource(d), new StreamResult(w));
            return w.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException("cannot serialise domain XML", e);
        }
    }
}
