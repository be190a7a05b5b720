package dev.virtman.manager.api;

import java.util.Map;

/**
 * What an agent reports of one VM it runs.
 *
 * @param name               VM name
 * @param imageId            the image its overlay is over (null for a VM the agent did not launch from an order)
 * @param state              {@code VmState} name: CREATED, STARTING, BOOTING, UP, STOPPED, FAILED
 * @param phases             {@code VmPhase} name to epoch milliseconds on the agent's clock
 *                           (OVERLAY_CREATED, PROCESS_STARTED, FIRST_READ, GUEST_UP, PROCESS_EXITED)
 * @param guestUptimeSeconds the uptime the guest printed with its up marker, or null
 * @param failure            why it failed, or null
 */
public record VmReport(String name, String imageId, String state, Map<String, Long> phases, Double guestUptimeSeconds,
                       String failure) {
    public VmReport {
        phases = phases == null ? Map.of() : Map.copyOf(phases);
    }
}
