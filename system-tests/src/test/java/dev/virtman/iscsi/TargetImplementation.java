package dev.virtman.iscsi;

import dev.virtman.testing.IscsiTargetUnderTest;
import dev.virtman.testing.TgtdProcess;
import dev.virtman.testing.VirtmanServeProcess;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The iSCSI targets an interop test can run against. tgtd is the baseline: when a test fails on
 * ours but passes on tgtd, the target is at fault, not the harness. The system property
 * {@code virtman.interop.targets} (comma-separated, e.g. {@code virtman}) narrows the set.
 */
public enum TargetImplementation {
    TGTD {
        @Override
        public IscsiTargetUnderTest start(final Path image, final String iqn, final boolean writable) {
            return TgtdProcess.start(image, iqn, writable);
        }
    },
    VIRTMAN {
        @Override
        public IscsiTargetUnderTest start(final Path image, final String iqn, final boolean writable) {
            return VirtmanTarget.start(image, iqn, writable);
        }
    },
    /** Ours again, through the CLI in its own JVM ({@code virtman serve}). */
    VIRTMAN_SERVE {
        @Override
        public IscsiTargetUnderTest start(final Path image, final String iqn, final boolean writable) {
            return VirtmanServeProcess.start(image, iqn, writable);
        }
    };

    /** Starts this target exporting {@code image} (read-only unless {@code writable}) as target {@code iqn}. */
    public abstract IscsiTargetUnderTest start(Path image, String iqn, boolean writable);

    /** The targets selected by {@code virtman.interop.targets} (all by default). */
    public static List<TargetImplementation> selected() {
        return selected("virtman.interop.targets", List.of(values()));
    }

    /** The targets named in system property {@code property}, or {@code otherwise} when it is unset. */
    public static List<TargetImplementation> selected(final String property, final List<TargetImplementation> otherwise) {
        String wanted = System.getProperty(property, "");
        if (wanted.isBlank()) {
            return otherwise;
        }
        return Arrays.stream(wanted.split(","))
                .map(s -> valueOf(s.strip().toUpperCase(Locale.ROOT)))
                .toList();
    }
}
