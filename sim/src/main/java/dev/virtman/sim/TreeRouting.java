package dev.virtman.sim;

import static dev.virtman.sim.StormModel.IN_FLIGHT;
import static dev.virtman.sim.StormModel.NANOS;
import static dev.virtman.sim.StormModel.NO_PEER;
import static dev.virtman.sim.StormModel.READY;
import static dev.virtman.sim.StormModel.SOURCE;

import dev.virtman.block.cache.ParentHealth;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The manager's tree (and the flat storm, every host a child of the source): the tree is
 * planned by {@link TreePlanner} and re-planned by it when hosts fail, each host's parent list
 * is {@link DistributionTree#ancestorsOf} as heartbeats hand it out, and which parent a host
 * asks, and how it fails over, is {@link ParentHealth} with the agents' fetch policy (attempt
 * timeout, rounds, back-off, cool-down).
 */
final class TreeRouting implements Routing {

    /** Initial trees by fan-out/max depth/hosts: TreePlanner is deterministic, so equal inputs give equal trees. */
    private static final Map<String, DistributionTree> PLANS = new ConcurrentHashMap<>();

    private final StormModel m;
    private final boolean flat;
    private ChunkTransfers transfers;
    private DistributionTree tree = DistributionTree.empty();
    private TreePlanner planner;
    private final String[] hostIds;
    private final Map<String, Integer> hostIndex = new HashMap<>();
    private int[][] parents;
    private ParentHealth[] health;
    private int[] depth;

    TreeRouting(final StormModel model, final boolean flat) {
        this.m = model;
        this.flat = flat;
        this.hostIds = new String[model.hostCount];
        for (int h = 0; h < model.hostCount; h++) {
            hostIds[h] = "host-" + (h + 1);
            hostIndex.put(hostIds[h], h);
        }
    }

    void transfers(final ChunkTransfers t) {
        this.transfers = t;
    }

    /** The distribution tree in use now. */
    DistributionTree tree() {
        return tree;
    }

    @Override
    public void start() {
        int hostCount = m.hostCount;
        if (flat) {
            // Every host a child of the source, as the storm's flat run (fan-out = hosts) plans it.
            parents = new int[hostCount][];
            health = new ParentHealth[hostCount];
            depth = new int[hostCount];
            for (int h = 0; h < hostCount; h++) {
                setParents(h, new int[] {SOURCE}, 1);
            }
            if (hostCount <= TreeLimits.MAX_FAN_OUT) {
                planner = new TreePlanner(new TreeLimits(hostCount, hostCount, 1), Locality.UNKNOWN);
                tree = planner.plan(DistributionTree.empty(), members()).tree();
            }
            return;
        }
        int fanOut = m.sc.strategy().fanOut();
        int maxDepth = TreeLimits.DEFAULT_MAX_DEPTH;
        while (new TreeLimits(fanOut, fanOut, maxDepth).capacity() < hostCount && maxDepth < TreeLimits.MAX_DEPTH_LIMIT) {
            maxDepth++;
        }
        if (maxDepth != TreeLimits.DEFAULT_MAX_DEPTH) {
            m.notes.append("max depth raised from ").append(TreeLimits.DEFAULT_MAX_DEPTH).append(" to ")
                    .append(maxDepth).append(" to hold ").append(hostCount).append(" hosts; ");
        }
        planner = new TreePlanner(new TreeLimits(fanOut, fanOut, maxDepth), Locality.UNKNOWN);
        // Planning all hosts at once costs O(hosts²) (each join scans the tree breadth-first):
        // about a minute for 10,000 hosts, so a plan is kept for the next storm of the same shape.
        String key = fanOut + "/" + maxDepth + "/" + hostCount;
        DistributionTree planned = PLANS.get(key);
        if (planned == null) {
            PlanResult plan = planner.plan(DistributionTree.empty(), members());
            if (!plan.unplaced().isEmpty()) {
                throw new IllegalStateException(plan.unplaced().size() + " hosts found no place in the tree");
            }
            planned = plan.tree();
            PLANS.put(key, planned);
        }
        parents = new int[hostCount][];
        health = new ParentHealth[hostCount];
        depth = new int[hostCount];
        applyTree(planned, null);
    }

    @Override
    public void startFetch(final int h, final int[] claimed) {
        for (int c : claimed) {
            m.state[h][c] = IN_FLIGHT;
        }
        ChunkTransfers.Attempt a = new ChunkTransfers.Attempt(h, claimed);
        takeParentList(a);
        transfers.tryNext(a);
    }

    @Override
    public void prepareSingle(final ChunkTransfers.Attempt single) {
        takeParentList(single);
    }

    @Override
    public int nextPeer(final ChunkTransfers.Attempt a) {
        if (a.next >= a.order.length) {
            // ChunkFetcher: the whole list failed; pause, then try it again (a VM whose read
            // fails after the last round reissues it, so the model keeps going).
            a.round++;
            if (a.round >= m.sc.fetch().rounds()) {
                transfers.giveUp(a);
                return NO_PEER;
            }
            long pause = m.sc.fetch().pauseBeforeRoundNanos(a.round);
            m.loop.after(pause / NANOS, () -> {
                takeParentList(a);
                a.next = 0;
                transfers.tryNext(a);
            });
            return NO_PEER;
        }
        a.slot = a.order[a.next++];
        return a.parentList[a.slot];
    }

    @Override
    public boolean isCurrent(final ChunkTransfers.Attempt a) {
        return a.parentHealth == health[a.host];
    }

    @Override
    public int depthOf(final int h) {
        return depth[h];
    }

    @Override
    public void hostsFailed() {
        if (planner != null && !flat) {
            // Missed heartbeats for the timeout, then children learn their new parents at their
            // next heartbeat: on average half an interval later.
            double replanAt = m.loop.now() + m.sc.heartbeatTimeout().toNanos() / NANOS
                    + m.sc.heartbeatInterval().toNanos() / NANOS / 2;
            m.loop.at(replanAt, this::replan);
        }
    }

    @Override
    public int treeDepth() {
        return flat ? 1 : tree.depth();
    }

    /** The host's current parent list and health, and their attempt order now (a ChunkFetcher round). */
    private void takeParentList(final ChunkTransfers.Attempt a) {
        a.parentList = parents[a.host];
        a.parentHealth = health[a.host];
        a.order = a.parentHealth.attemptOrder(m.nanos());
    }

    private List<TreeMember> members() {
        List<TreeMember> live = new ArrayList<>(m.hostCount);
        for (int h = 0; h < m.hostCount; h++) {
            if (!m.dead[h]) {
                long held = 0;
                for (byte b : m.state[h]) {
                    held += b == READY ? 1 : 0;
                }
                live.add(new TreeMember(hostIds[h], Locality.UNKNOWN, held));
            }
        }
        return live;
    }

    /** Gives every host of {@code next} (or only {@code changed} ones) its parent list, as heartbeats do. */
    private void applyTree(final DistributionTree next, final List<String> changed) {
        tree = next;
        for (String id : changed == null ? next.hosts() : changed) {
            if (!next.contains(id)) {
                continue;
            }
            List<String> ancestors = next.ancestorsOf(id);
            int[] list = new int[ancestors.size()];
            for (int i = 0; i < list.length; i++) {
                String a = ancestors.get(i);
                list[i] = DistributionTree.SOURCE.equals(a) ? SOURCE : hostIndex.get(a);
            }
            setParents(hostIndex.get(id), list, next.depthOf(id));
        }
    }

    private void setParents(final int h, final int[] list, final int d) {
        parents[h] = list;
        // A new parent list is a new ParentSet in the agent: fresh health.
        health[h] = new ParentHealth(list.length, m.sc.fetch().parentCooldown().toNanos(), m.nanos());
        depth[h] = d;
    }

    private void replan() {
        PlanResult plan = planner.plan(tree, members());
        List<String> changed = new ArrayList<>();
        plan.changes().forEach(ch -> {
            if (ch.newParent() != null) {
                changed.add(ch.hostId());
            }
        });
        // Descendants of a moved host keep their parent but get a new ancestor list too.
        List<String> refresh = new ArrayList<>();
        for (String id : changed) {
            refresh.addAll(plan.tree().subtreeOf(id));
        }
        applyTree(plan.tree(), refresh);
        m.notes.append("manager re-planned at ").append(String.format(Locale.ROOT, "%.1f", m.loop.now()))
                .append(" s (").append(plan.moves()).append(" moves); ");
    }
}
