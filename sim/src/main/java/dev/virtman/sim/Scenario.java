package dev.virtman.sim;

import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.manager.ManagerConfig;

import java.time.Duration;

/**
 * One simulated storm: who boots what over which network with which strategy.
 *
 * @param hosts        hosts (agents)
 * @param vmsPerHost   VMs per host, all starting at time 0
 * @param workload     the boot every VM replays
 * @param imageBytes   image size (what a full copy moves)
 * @param network      the hardware
 * @param strategy     how chunks travel
 * @param prefetch     whether hosts prefetch the boot profile (recorded by a first, lone boot)
 * @param failFraction fraction of hosts that die at {@code failAt} (0 = none)
 * @param failAt       when they die, seconds from the start
 * @param seed         picks the failing hosts and multi-parent's peers
 * @param fetch        the agents' fetch policy (attempt timeout, rounds, back-off, cool-down)
 * @param heartbeatInterval agents' heartbeat period (re-parenting reaches them at a heartbeat)
 * @param heartbeatTimeout  silence after which the manager re-plans without a host
 */
public record Scenario(int hosts, int vmsPerHost, Workload workload, long imageBytes, NetworkModel network,
                       Strategy strategy, boolean prefetch, double failFraction, double failAt, long seed,
                       FetchPolicy fetch, Duration heartbeatInterval, Duration heartbeatTimeout) {

    public Scenario {
        if (hosts < 1 || vmsPerHost < 1) {
            throw new IllegalArgumentException("need at least one host and one VM per host");
        }
        if (failFraction < 0 || failFraction >= 1) {
            throw new IllegalArgumentException("fail fraction must be in [0, 1)");
        }
        if (imageBytes < workload.chunkWorkingSetBytes() / 2) {
            throw new IllegalArgumentException("image smaller than the boot's working set");
        }
    }

    /** A fault-free storm with the production defaults for fetching and heartbeats. */
    public static Scenario of(final int hosts, final int vmsPerHost, final Workload workload, final long imageBytes,
                              final NetworkModel network, final Strategy strategy) {
        return new Scenario(hosts, vmsPerHost, workload, imageBytes, network, strategy, false, 0, 0, 1,
                FetchPolicy.DEFAULT, ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL, ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT);
    }

    public Scenario withStrategy(final Strategy s) {
        return new Scenario(hosts, vmsPerHost, workload, imageBytes, network, s, prefetch, failFraction, failAt, seed,
                fetch, heartbeatInterval, heartbeatTimeout);
    }

    public Scenario withPrefetch(final boolean on) {
        return new Scenario(hosts, vmsPerHost, workload, imageBytes, network, strategy, on, failFraction, failAt, seed,
                fetch, heartbeatInterval, heartbeatTimeout);
    }

    public Scenario withFailures(final double fraction, final double at) {
        return new Scenario(hosts, vmsPerHost, workload, imageBytes, network, strategy, prefetch, fraction, at, seed,
                fetch, heartbeatInterval, heartbeatTimeout);
    }

    public Scenario withHosts(final int h) {
        return new Scenario(h, vmsPerHost, workload, imageBytes, network, strategy, prefetch, failFraction, failAt, seed,
                fetch, heartbeatInterval, heartbeatTimeout);
    }

    public Scenario withNetwork(final NetworkModel n) {
        return new Scenario(hosts, vmsPerHost, workload, imageBytes, n, strategy, prefetch, failFraction, failAt, seed,
                fetch, heartbeatInterval, heartbeatTimeout);
    }
}
