package dev.virtman.bench.manager;

import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.client.ManagerClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Agents without an agent: each registers with the manager and sends heartbeats at a fixed
 * interval, one virtual thread each, the load a boot storm puts on the manager. Agent {@code i}
 * is {@code agent<i>} at 127.0.x.y:3260 counting from 127.0.0.2, in rack {@code i/20} and zone
 * {@code i/50}, so a tree over them has racks and zones to prefer.
 */
public final class SimulatedAgents {
    private static final int HOSTS_PER_RACK = 20;
    private static final int HOSTS_PER_ZONE = 50;
    /** 127.0.0.1 is the manager's and the source's; agents start at .2. */
    private static final int FIRST_ADDRESS = 2;
    private static final int OCTET = 256;
    private static final int ISCSI_PORT = 3260;

    /** What a caller does with each heartbeat's answer, on the agent's thread. */
    @FunctionalInterface
    public interface HeartbeatObserver {
        /**
         * @param round 0 for the first heartbeat (the one that joins the tree)
         * @param nanos how long the heartbeat request took
         * @throws Exception to stop this agent: it goes to the failure handler
         */
        void heartbeat(String host, int round, long nanos, HeartbeatReply reply) throws Exception;
    }

    /** Where an agent's failure goes (a failed register or heartbeat, or its observer's throw). */
    @FunctionalInterface
    public interface FailureHandler {
        void failed(String host, Throwable failure);
    }

    private SimulatedAgents() {
    }

    public static String hostId(final int i) {
        return "agent" + i;
    }

    static String address(final int i) {
        int n = i + FIRST_ADDRESS;
        return "127.0." + (n / OCTET) + "." + (n % OCTET) + ":" + ISCSI_PORT;
    }

    static Labels labels(final int i) {
        return new Labels("rack" + i / HOSTS_PER_RACK, "zone" + i / HOSTS_PER_ZONE);
    }

    /**
     * Registers {@code hosts} agents and has each send {@code rounds} copies of {@code heartbeat},
     * {@code interval} apart; returns when every agent has finished or failed.
     */
    public static void run(final ManagerClient client, final int hosts, final int rounds, final Duration interval,
                           final HeartbeatRequest heartbeat, final HeartbeatObserver observer,
                           final FailureHandler onFailure) throws InterruptedException {
        List<Thread> agents = new ArrayList<>();
        for (int i = 0; i < hosts; i++) {
            String host = hostId(i);
            String address = address(i);
            Labels labels = labels(i);
            agents.add(Thread.ofVirtual().start(() -> {
                try {
                    client.registerHost(host, address, labels);
                    for (int round = 0; round < rounds; round++) {
                        long t0 = System.nanoTime();
                        HeartbeatReply reply = client.heartbeat(host, heartbeat);
                        observer.heartbeat(host, round, System.nanoTime() - t0, reply);
                        Thread.sleep(interval);
                    }
                } catch (Exception | AssertionError e) {
                    onFailure.failed(host, e);
                }
            }));
        }
        for (Thread t : agents) {
            t.join();
        }
    }
}
