package dev.virtman.manager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Await;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.store.StateStore;
import dev.virtman.testing.RandomFiles;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agents joining at once while the manager's lock is busy are planned and committed as one group:
 * one thread waits for the lock, the others only for their replies; one transaction for all of
 * them; every joiner still gets its own placement (its parent list is the one in the committed
 * tree); heartbeats that must be rejected are rejected alone; and the tree the group committed
 * is what a restarted manager loads.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ManagerJoinGroupTest {

    private static final int CHUNK = 4096;
    private static final int JOINERS = 40;

    @TempDir
    Path tmp;

    private Manager open(final StateDir dir, final SimpleMeterRegistry metrics) {
        ManagerConfig config = ManagerConfig.defaults(dir).withImageDirs(List.of(dir.path().getParent())).withChunkSize(CHUNK);
        return new Manager(config, StateStore.open(dir.database()), new ChunkManifestProvider(CHUNK, 1), metrics,
                InstantSource.system());
    }

    @Test
    void joinsQueuedBehindTheLockCommitTogetherAndEachGetsItsOwnPlacement() throws Exception {
        StateDir dir = new StateDir(tmp.resolve("state")).create();
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        Map<String, HeartbeatReply> replies = new ConcurrentHashMap<>();
        Map<String, Throwable> errors = new ConcurrentHashMap<>();
        String imageId;
        TreeSnapshot committed;
        try (Manager manager = open(dir, metrics)) {
            imageId = manager.registerImage("base", RandomFiles.write(tmp.resolve("base.raw"), 16 * CHUNK, 7).toString())
                    .id();
            Map<String, HeartbeatRequest> beats = new HashMap<>();
            for (int i = 0; i < JOINERS; i++) {
                String host = "h" + i;
                manager.registerHost(host, "127.0.1." + (i + 2) + ":3260", new Labels("r" + i % 3, "z" + i % 2));
                beats.put(host, new HeartbeatRequest(host, Map.of(imageId, new HeartbeatRequest.ImageReport(i))));
            }
            manager.registerHost("liar", "127.0.2.1:3260", null);
            beats.put("liar", new HeartbeatRequest("liar", Map.of(imageId, new HeartbeatRequest.ImageReport(-1))));
            beats.put("ghost", new HeartbeatRequest("ghost", Map.of(imageId, new HeartbeatRequest.ImageReport(0))));

            List<Thread> agents = new ArrayList<>();
            synchronized (manager.lock()) {
                // The lock is busy (a plan and commit in progress) while the whole wave arrives.
                beats.forEach((host, beat) -> agents.add(Thread.ofPlatform().start(() -> {
                    try {
                        replies.put(host, manager.heartbeat(host, beat));
                    } catch (RuntimeException e) {
                        errors.put(host, e);
                    }
                })));
                // One waits for the lock to apply the group, the others wait for their replies.
                for (Thread agent : agents) {
                    Await.until(() -> agent.getState() == Thread.State.BLOCKED || agent.getState() == Thread.State.WAITING,
                            agent + " waiting for the lock or its reply");
                }
                assertThat(agents).filteredOn(a -> a.getState() == Thread.State.BLOCKED).hasSize(1);
            }
            for (Thread agent : agents) {
                agent.join();
            }

            assertThat(errors.keySet()).containsExactlyInAnyOrder("liar", "ghost");
            assertThat(((ManagerException) errors.get("liar")).reason()).isEqualTo(ManagerException.Reason.INVALID);
            assertThat(((ManagerException) errors.get("ghost")).reason()).isEqualTo(ManagerException.Reason.NOT_FOUND);
            DistributionSummary groups = metrics.find("virtman.heartbeat.join.group").summary();
            assertThat(groups.count()).as("one group commit for the whole wave").isEqualTo(1);
            assertThat(groups.totalAmount()).isEqualTo(JOINERS);

            committed = manager.tree(imageId);
            assertThat(committed.unplaced()).isEmpty();
            assertThat(committed.tree().size()).isEqualTo(JOINERS);
            DistributionTree tree = committed.tree();
            for (int i = 0; i < JOINERS; i++) {
                String host = "h" + i;
                HeartbeatReply.Placement placement = replies.get(host).images().get(imageId);
                assertThat(placement.status()).isEqualTo("placed");
                assertThat(placement.depth()).isEqualTo(tree.depthOf(host));
                assertThat(placement.parents().stream().map(Portal::hostId).toList())
                        .as(host).isEqualTo(ancestors(tree, host));
            }
            // Steady heartbeats after the wave change nothing and commit nothing.
            manager.heartbeat("h0", new HeartbeatRequest("h0", Map.of(imageId, new HeartbeatRequest.ImageReport(1))));
            assertThat(groups.count()).isEqualTo(1);
        }
        try (Manager restarted = open(dir, new SimpleMeterRegistry())) {
            assertThat(restarted.tree(imageId).tree()).isEqualTo(committed.tree());
        }
    }

    @Test
    void registrationsQueuedBehindTheLockCommitTogether() throws Exception {
        StateDir dir = new StateDir(tmp.resolve("state")).create();
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        Map<String, Boolean> fresh = new ConcurrentHashMap<>();
        Map<String, Throwable> errors = new ConcurrentHashMap<>();
        try (Manager manager = open(dir, metrics)) {
            manager.registerHost("h0", "127.0.1.2:3260", null); // known before the wave: a re-registration
            List<Thread> agents = new ArrayList<>();
            synchronized (manager.lock()) {
                for (int i = 0; i < JOINERS; i++) {
                    String host = "h" + i;
                    String address = "127.0.1." + (i + 2) + ":3260";
                    agents.add(Thread.ofPlatform().start(() -> {
                        try {
                            HostRegistered r = manager.register(host, address, new Labels("r1", "z1"));
                            assertThat(r.host().host().address()).isEqualTo(address); // the reply, from the group
                            fresh.put(host, r.created());
                        } catch (RuntimeException e) {
                            errors.put(host, e);
                        }
                    }));
                }
                // A bad address is refused before it queues: it never waits for the lock.
                agents.add(Thread.ofPlatform().start(() -> {
                    try {
                        manager.registerHost("outsider", "8.8.8.8:3260", null);
                    } catch (RuntimeException e) {
                        errors.put("outsider", e);
                    }
                }));
                for (Thread agent : agents.subList(0, JOINERS)) {
                    Await.until(() -> agent.getState() == Thread.State.BLOCKED || agent.getState() == Thread.State.WAITING,
                            agent + " waiting for the lock or its reply");
                }
                agents.getLast().join();
                assertThat(agents.subList(0, JOINERS)).filteredOn(a -> a.getState() == Thread.State.BLOCKED)
                        .as("one registration waits for the lock, the others for their group").hasSize(1);
            }
            for (Thread agent : agents) {
                agent.join();
            }
            assertThat(errors.keySet()).containsExactly("outsider");
            assertThat(fresh).hasSize(JOINERS).containsEntry("h0", false);
            assertThat(fresh.values().stream().filter(b -> b)).hasSize(JOINERS - 1);
            DistributionSummary groups = metrics.find("virtman.host.registration.group").summary();
            assertThat(groups.count()).as("the first registration, then one group for the wave").isEqualTo(2);
            assertThat(groups.max()).isEqualTo(JOINERS);
            assertThat(manager.hosts()).hasSize(JOINERS);
        }
        try (Manager restarted = open(dir, new SimpleMeterRegistry())) {
            assertThat(restarted.hosts()).hasSize(JOINERS)
                    .allSatisfy(h -> assertThat(h.host().locality().rack()).isEqualTo("r1"));
        }
    }

    /** Parent, grandparent, ..., then the source (a portal without a host id). */
    private static List<String> ancestors(final DistributionTree tree, final String host) {
        List<String> out = new ArrayList<>();
        for (String a : tree.ancestorsOf(host)) {
            out.add(DistributionTree.SOURCE.equals(a) ? null : a);
        }
        return out;
    }
}
