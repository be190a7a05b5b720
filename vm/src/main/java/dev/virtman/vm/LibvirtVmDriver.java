package dev.virtman.vm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs VMs as libvirt domains through {@code virsh -c URI} (e.g. {@code qemu:///system}), for hosts
 * where libvirtd owns the hypervisors. Each VM is defined from {@link LibvirtDomainXml} with its
 * overlay as disk and its serial console appended to {@code serial.log} in its directory; a virtual
 * thread follows that file for the up marker and polls {@code virsh domstate} to see the domain end.
 * Stop is {@code virsh shutdown} (ACPI), then {@code virsh destroy} after the grace period.
 */
public final class LibvirtVmDriver implements VmDriver {

    private static final Logger LOG = LoggerFactory.getLogger(LibvirtVmDriver.class);
    private static final Duration VIRSH_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(250);
    /** How many console polls between two {@code virsh domstate} calls (a process launch each). */
    private static final int POLLS_PER_STATE_CHECK = 8;
    private static final String SHUT_OFF = "shut off";

    private final String connectUri;
    private final Path baseDir;
    private final Accelerator accelerator;
    private final Clock clock;
    private final Map<String, AtomicBoolean> stopRequested = new ConcurrentHashMap<>();

    public LibvirtVmDriver(final String connectUri, final Path baseDir, final Accelerator accelerator, final Clock clock) {
        this.connectUri = connectUri;
        this.baseDir = baseDir;
        this.accelerator = accelerator;
        this.clock = clock;
    }

    public String connectUri() {
        return connectUri;
    }

    public Accelerator accelerator() {
        return accelerator;
    }

    /** The domain XML this driver defines for {@code vm}. */
    public String domainXml(final VmHandle vm) {
        return LibvirtDomainXml.render(vm.spec(), accelerator, vm.overlay(), vm.serialLog());
    }

    @Override
    public VmHandle create(final VmSpec spec) {
        VmHandle vm = VmDirectory.create(baseDir, spec, clock);
        try {
            Path xml = vm.workDir().resolve("domain.xml");
            Files.writeString(xml, domainXml(vm));
            virsh("define", xml.toString());
        } catch (IOException | VmException e) {
            VmDirectory.delete(vm.workDir());
            throw new VmException("cannot define libvirt domain " + spec.name() + " (" + connectUri + "): " + e.getMessage(), e);
        }
        return vm;
    }

    @Override
    public void start(final VmHandle vm) {
        if (vm.state() != VmState.CREATED || !vm.moveTo(VmState.STARTING)) {
            throw new VmException("VM " + vm.name() + " cannot start from state " + vm.state());
        }
        try {
            Files.deleteIfExists(vm.serialLog());
            // libvirtd launches QEMU, which opens the disk and may read it, before "virsh start"
            // returns: the phase is the launch, so it is stamped before, not after.
            vm.recordPhase(VmPhase.PROCESS_STARTED);
            virsh("start", vm.name());
        } catch (IOException | VmException e) {
            vm.fail("virsh start failed: " + e.getMessage());
            throw new VmException("cannot start domain " + vm.name() + ": " + e.getMessage(), e);
        }
        AtomicBoolean stop = new AtomicBoolean();
        stopRequested.put(vm.name(), stop);
        vm.moveTo(VmState.BOOTING);
        Thread.ofVirtual().name("libvirt-console-" + vm.name()).start(() -> follow(vm, stop));
    }

    /** Follows the serial log for the marker and polls the domain state until it is shut off. */
    private void follow(final VmHandle vm, final AtomicBoolean stop) {
        long offset = 0;
        StringBuilder line = new StringBuilder();
        int polls = 0;
        try {
            while (true) {
                if (Files.exists(vm.serialLog())) {
                    try (InputStream in = Files.newInputStream(vm.serialLog())) {
                        in.skipNBytes(offset);
                        byte[] fresh = in.readAllBytes();
                        offset += fresh.length;
                        for (char c : new String(fresh, StandardCharsets.ISO_8859_1).toCharArray()) {
                            if (c == '\n') {
                                onLine(vm, line.toString());
                                line.setLength(0);
                            } else {
                                line.append(c);
                            }
                        }
                    }
                }
                if (++polls % POLLS_PER_STATE_CHECK == 0 && domainState(vm.name()).equals(SHUT_OFF)) {
                    break;
                }
                Thread.sleep(POLL.toMillis());
            }
        } catch (IOException | VmException e) {
            LOG.warn("VM {}: lost track of the domain: {}", vm.name(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        vm.recordPhase(VmPhase.PROCESS_EXITED);
        if (stop.get() || vm.state() == VmState.UP) {
            vm.moveTo(VmState.STOPPED);
        } else {
            vm.fail("domain shut off in state " + vm.state() + "; see " + vm.serialLog());
        }
    }

    private void onLine(final VmHandle vm, final String line) {
        if (line.contains(vm.spec().upMarker())) {
            vm.markUp(GuestMarker.uptimeSeconds(line, vm.spec().upMarker()));
        }
    }

    @Override
    public void stop(final VmHandle vm, final Duration grace) {
        AtomicBoolean stop = stopRequested.get(vm.name());
        if (stop == null) {
            vm.moveTo(VmState.STOPPED);
            return;
        }
        stop.set(true);
        try {
            virsh("shutdown", vm.name());
            if (vm.awaitEnd(grace) != VmState.STOPPED) {
                kill(vm);
            }
        } catch (VmException e) {
            kill(vm);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void kill(final VmHandle vm) {
        AtomicBoolean stop = stopRequested.get(vm.name());
        if (stop == null) {
            vm.moveTo(VmState.STOPPED);
            return;
        }
        stop.set(true);
        if (!domainState(vm.name()).equals(SHUT_OFF)) {
            // the guest may power off between domstate and destroy (panic=-1, no-reboot): a domain
            // that is no longer running is what destroy wanted, not an error
            HostCommand.Result r = HostCommand.runAllowingFailure(command("destroy", vm.name()), VIRSH_TIMEOUT);
            if (r.exitCode() != 0 && !domainState(vm.name()).equals(SHUT_OFF)) {
                throw new VmException("virsh destroy " + vm.name() + " failed: " + r.stderr().strip());
            }
        }
        try {
            vm.awaitEnd(VIRSH_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void destroy(final VmHandle vm) {
        try {
            kill(vm);
        } finally {
            stopRequested.remove(vm.name());
            HostCommand.Result r = HostCommand.runAllowingFailure(command("undefine", vm.name()), VIRSH_TIMEOUT);
            if (r.exitCode() != 0) {
                LOG.warn("virsh undefine {}: {}", vm.name(), r.stderr().strip());
            }
            VmDirectory.delete(vm.workDir());
        }
    }

    private String domainState(final String name) {
        return virsh("domstate", name).strip();
    }

    private String virsh(final String... args) {
        return HostCommand.run(command(args), VIRSH_TIMEOUT);
    }

    private List<String> command(final String... args) {
        List<String> cmd = new ArrayList<>(List.of("virsh", "-q", "-c", connectUri));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
