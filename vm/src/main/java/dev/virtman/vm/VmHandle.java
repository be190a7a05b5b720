package dev.virtman.vm;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One VM as its driver sees it: spec, working directory, state and timeline. Drivers move it
 * through its states; callers read it and wait on it. Thread-safe: the driver's console reader
 * and process watcher update it while callers wait.
 */
public final class VmHandle {

    private final VmSpec spec;
    private final Path workDir;
    private final Path overlay;
    private final Path serialLog;
    private final Clock clock;
    private final Map<VmPhase, Instant> phases = new EnumMap<>(VmPhase.class);
    private VmState state = VmState.CREATED;
    private OptionalDouble guestUptimeSeconds = OptionalDouble.empty();
    private String failure;

    VmHandle(final VmSpec spec, final Path workDir, final Path overlay, final Path serialLog, final Clock clock) {
        this.spec = spec;
        this.workDir = workDir;
        this.overlay = overlay;
        this.serialLog = serialLog;
        this.clock = clock;
    }

    public VmSpec spec() {
        return spec;
    }

    public String name() {
        return spec.name();
    }

    /** The VM's own directory: overlay, serial log, hypervisor files. */
    public Path workDir() {
        return workDir;
    }

    /** The qcow2 overlay that is the VM's disk. */
    public Path overlay() {
        return overlay;
    }

    /** Everything the guest wrote on its serial console. */
    public Path serialLog() {
        return serialLog;
    }

    public synchronized VmState state() {
        return state;
    }

    public synchronized VmTimeline timeline() {
        return new VmTimeline(phases, guestUptimeSeconds);
    }

    /** Why the VM failed, if it did. */
    public synchronized Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Waits until the guest is up or the VM ended; returns the state then (UP, STOPPED, FAILED, or
     * the current one on timeout).
     */
    public VmState awaitUp(final Duration timeout) throws InterruptedException {
        return awaitAny(timeout, VmState.UP, VmState.STOPPED, VmState.FAILED);
    }

    /** Waits until the VM has ended (STOPPED or FAILED) or the timeout passes; returns the state. */
    public VmState awaitEnd(final Duration timeout) throws InterruptedException {
        return awaitAny(timeout, VmState.STOPPED, VmState.FAILED);
    }

    private synchronized VmState awaitAny(final Duration timeout, final VmState... wanted) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (VmState w : wanted) {
                if (state == w) {
                    return state;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return state;
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    synchronized void recordPhase(final VmPhase phase) {
        phases.putIfAbsent(phase, clock.instant());
    }

    /**
     * Records a phase that something other than the driver observed, at the time it was observed
     * (the first read, seen by the agent; a remote host's phases). The first record of a phase stays.
     */
    public synchronized void recordPhaseAt(final VmPhase phase, final Instant at) {
        phases.putIfAbsent(phase, at);
    }

    /** Moves to {@code next} unless the VM already ended; returns whether it moved. */
    synchronized boolean moveTo(final VmState next) {
        if (state.isTerminal()) {
            return false;
        }
        state = next;
        notifyAll();
        return true;
    }

    /** Records the up marker; {@code uptimeSeconds} is empty for a guest whose marker carries none. */
    synchronized boolean markUp(final OptionalDouble uptimeSeconds) {
        if (state != VmState.BOOTING) {
            return false;
        }
        guestUptimeSeconds = uptimeSeconds;
        recordPhase(VmPhase.GUEST_UP);
        return moveTo(VmState.UP);
    }

    synchronized void fail(final String reason) {
        if (!state.isTerminal()) {
            failure = reason;
            moveTo(VmState.FAILED);
        }
    }

    @Override
    public synchronized String toString() {
        return "VM " + spec.name() + " " + state + (failure == null ? "" : " (" + failure + ")");
    }
}
