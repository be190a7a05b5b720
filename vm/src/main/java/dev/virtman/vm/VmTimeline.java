package dev.virtman.vm;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * When each phase of one VM's life happened (host clock), plus the guest's own uptime at its up
 * marker. A snapshot: {@link VmHandle#timeline()} returns a new one each time.
 *
 * @param phases              instants of the phases reached so far
 * @param guestUptimeSeconds  the uptime the guest reported in its up marker, if it came up
 */
public record VmTimeline(Map<VmPhase, Instant> phases, OptionalDouble guestUptimeSeconds) {

    public VmTimeline {
        phases = Collections.unmodifiableMap(phases.isEmpty() ? new EnumMap<>(VmPhase.class) : new EnumMap<>(phases));
    }

    public Optional<Instant> at(final VmPhase phase) {
        return Optional.ofNullable(phases.get(phase));
    }

    /** Host time from one phase to another, if both happened. */
    public Optional<Duration> between(final VmPhase from, final VmPhase to) {
        Instant a = phases.get(from);
        Instant b = phases.get(to);
        return a == null || b == null ? Optional.empty() : Optional.of(Duration.between(a, b));
    }
}
