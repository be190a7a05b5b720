package dev.virtman.boot;

import dev.virtman.vm.VmPhase;
import dev.virtman.vm.VmState;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a boot achieved: per-VM results plus the data-path figures that show VirtMan's point
 * (the source served about one boot working set, not one image per VM).
 *
 * @param started           when the boot began (before image preparation)
 * @param vmsLaunched       when the first VM was launched
 * @param vms               every VM, in launch order
 * @param imageBytes        size of the image
 * @param sourceBytes       bytes the source target served during this boot
 * @param agentFetchedBytes bytes all agents fetched from their parents during this boot
 */
public record BootOutcome(Instant started, Instant vmsLaunched, List<VmBoot> vms, long imageBytes,
                          long sourceBytes, long agentFetchedBytes) {

    public long upCount() {
        return vms.stream().filter(v -> v.vm().timeline().at(VmPhase.GUEST_UP).isPresent()).count();
    }

    public long failedCount() {
        return vms.stream().filter(v -> v.vm().state() == VmState.FAILED
                && v.vm().timeline().at(VmPhase.GUEST_UP).isEmpty()).count();
    }

    /** Time from the first launch to a VM's up marker. */
    public Optional<Duration> upAfterLaunch(final VmBoot v) {
        return v.vm().timeline().at(VmPhase.GUEST_UP).map(t -> Duration.between(vmsLaunched, t));
    }

    public Optional<Duration> firstUp() {
        return vms.stream().map(this::upAfterLaunch).flatMap(Optional::stream).min(Duration::compareTo);
    }

    public Optional<Duration> lastUp() {
        return vms.stream().map(this::upAfterLaunch).flatMap(Optional::stream).max(Duration::compareTo);
    }

    /** The guests' own uptimes at their up markers (boot time as the guest saw it), sorted. */
    public double[] guestUptimes() {
        return vms.stream().map(v -> v.vm().timeline().guestUptimeSeconds()).filter(OptionalDouble::isPresent)
                .mapToDouble(OptionalDouble::getAsDouble).sorted().toArray();
    }

    /** Seconds from each VM's QEMU start to its first disk read as its agent saw it, sorted. */
    public double[] firstReadsAfterStart() {
        return vms.stream().map(v -> v.vm().timeline().between(VmPhase.PROCESS_STARTED, VmPhase.FIRST_READ))
                .flatMap(Optional::stream).mapToDouble(d -> d.toMillis() / 1000.0).sorted().toArray();
    }

    /** The summary printed at the end of {@code virtman boot}. */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "VMs up: %d of %d", upCount(), vms.size()));
        if (failedCount() > 0) {
            s.append(String.format(Locale.ROOT, " (%d failed)", failedCount()));
        }
        s.append('\n');
        firstUp().ifPresent(d -> s.append(String.format(Locale.ROOT,
                "first VM up: %.1f s after launch; last VM up: %.1f s%n",
                d.toMillis() / 1000.0, lastUp().orElseThrow().toMillis() / 1000.0)));
        double[] reads = firstReadsAfterStart();
        if (reads.length > 0) {
            s.append(String.format(Locale.ROOT, "first disk read after QEMU start: min %.2f s, median %.2f s, max %.2f s%n",
                    reads[0], reads[reads.length / 2], reads[reads.length - 1]));
        }
        double[] uptimes = guestUptimes();
        if (uptimes.length > 0) {
            s.append(String.format(Locale.ROOT, "guest uptime at up marker: min %.2f s, median %.2f s, max %.2f s%n",
                    uptimes[0], uptimes[uptimes.length / 2], uptimes[uptimes.length - 1]));
        }
        s.append(String.format(Locale.ROOT, "source served %s of a %s image (%.2f%%); agents fetched %s in all%n",
                Bytes.human(sourceBytes), Bytes.human(imageBytes), 100.0 * sourceBytes / Math.max(1, imageBytes),
                Bytes.human(agentFetchedBytes)));
        for (VmBoot v : vms) {
            if (v.vm().state() == VmState.FAILED) {
                s.append("  ").append(v.vm().name()).append(": ")
                        .append(v.vm().failure().orElse("failed")).append('\n');
            }
        }
        return s.toString();
    }
}
