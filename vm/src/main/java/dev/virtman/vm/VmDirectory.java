package dev.virtman.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A VM's own directory, {@code BASE/NAME/}: its overlay {@code disk.qcow2}, its {@code serial.log}
 * and whatever the hypervisor keeps there. One directory per VM keeps VMs apart and makes destroy a
 * single recursive delete.
 */
final class VmDirectory {

    static final String OVERLAY = "disk.qcow2";
    static final String SERIAL_LOG = "serial.log";

    private VmDirectory() {
    }

    /** Creates the directory and the overlay; on failure leaves nothing behind. */
    static VmHandle create(final Path baseDir, final VmSpec spec, final Clock clock) {
        Path workDir = baseDir.toAbsolutePath().resolve(spec.name());
        if (Files.exists(workDir)) {
            throw new VmException("VM " + spec.name() + " already exists at " + workDir);
        }
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new VmException("cannot create VM directory " + workDir + ": " + e.getMessage(), e);
        }
        VmHandle vm = new VmHandle(spec, workDir, workDir.resolve(OVERLAY), workDir.resolve(SERIAL_LOG), clock);
        try {
            QcowOverlays.create(vm.overlay(), spec.disk().backing(), spec.disk().sizeBytes());
        } catch (VmException e) {
            delete(workDir);
            throw e;
        }
        vm.recordPhase(VmPhase.OVERLAY_CREATED);
        return vm;
    }

    static void delete(final Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new VmException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
