package dev.virtman.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.model.ManifestSummary;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite store writes a re-planned tree as the edges that changed, not the whole tree again:
 * whatever the sequence of joins, leaves and failures the real planner turns into trees, the
 * tree read back after a reopen is the last one committed, children in the same order (every
 * plan, and so every parent list, depends on that order). Reopening in the middle starts a new
 * diff base (the first write after it is whole), and a failed commit leaves the base untouched.
 */
class SqliteTreeWritesTest {

    private static final Instant T0 = Instant.ofEpochMilli(1_765_000_000_000L);
    private static final String IMAGE = "a".repeat(64);

    @TempDir
    Path dir;

    private static ImageRecord image() {
        return new ImageRecord(IMAGE, "base", "/images/base.raw", new ManifestSummary(IMAGE, 1L << 30, 65_536, 16_384,
                "manifests/" + IMAGE), T0);
    }

    @Test
    void everyCommittedPlanReadsBackInOrderAcrossReopens() {
        Path file = dir.resolve("manager.db");
        SqliteStateStore store = SqliteStateStore.open(file);
        store.commit(new StateChange().putImage(image()));
        TreePlanner planner = new TreePlanner(new TreeLimits(3, 2, 12), Locality.UNKNOWN);
        Random random = new Random(12);
        Set<String> members = new LinkedHashSet<>();
        DistributionTree tree = DistributionTree.empty();
        int next = 0;
        for (int round = 0; round < 120; round++) {
            // A join wave, leaves and failures, in varying mixes (a failure is a leave to the planner).
            int joins = random.nextInt(round < 40 ? 12 : 4);
            for (int j = 0; j < joins; j++) {
                members.add("h" + next++);
            }
            int leaves = members.isEmpty() ? 0 : random.nextInt(Math.min(4, members.size()) + 1);
            for (int l = 0; l < leaves; l++) {
                List<String> ids = new ArrayList<>(members);
                members.remove(ids.get(random.nextInt(ids.size())));
            }
            List<TreeMember> live = new ArrayList<>();
            for (String h : members) {
                live.add(new TreeMember(h, new Locality("r" + h.hashCode() % 5, "z"), random.nextInt(3)));
            }
            PlanResult plan = planner.plan(tree, live);
            tree = plan.tree();
            if (round % 17 == 5) {
                // A commit that fails (an image id taken twice) must not move the diff base.
                DistributionTree rejected = DistributionTree.empty();
                try {
                    store.commit(new StateChange().putTree(IMAGE, rejected).putImage(image()));
                    throw new AssertionError("a duplicate image was accepted");
                } catch (StoreException expected) {
                    // rolled back
                }
            }
            store.commit(new StateChange().rebuildable().putTree(IMAGE, tree));
            if (round % 25 == 24) {
                store.close();
                store = SqliteStateStore.open(file);
                assertThat(store.load().trees().get(IMAGE).edges()).as("round %d", round).isEqualTo(tree.edges());
            }
        }
        store.close();
        SqliteStateStore reopened = SqliteStateStore.open(file);
        try {
            DistributionTree loaded = reopened.load().trees().get(IMAGE);
            assertThat(tree.size()).isGreaterThan(50);
            assertThat(loaded.edges()).isEqualTo(tree.edges());
            assertThat(loaded.breadthFirst()).isEqualTo(tree.breadthFirst());
        } finally {
            reopened.close();
        }
    }

    @Test
    void deletingAnImageForgetsItsTreeSoItsNextTreeIsWrittenWhole() {
        Path file = dir.resolve("manager.db");
        SqliteStateStore store = SqliteStateStore.open(file);
        try {
            DistributionTree first = DistributionTree.fromEdges(List.of(new DistributionTree.Edge("h1", DistributionTree.SOURCE),
                    new DistributionTree.Edge("h2", "h1")));
            store.commit(new StateChange().putImage(image()).putTree(IMAGE, first));
            store.commit(new StateChange().deleteImage(IMAGE));
            DistributionTree second = DistributionTree.fromEdges(List.of(new DistributionTree.Edge("h2", DistributionTree.SOURCE),
                    new DistributionTree.Edge("h3", "h2")));
            store.commit(new StateChange().putImage(image()).putTree(IMAGE, second)
                    .putHost(new HostRecord("h2", "10.0.0.2:3260", Locality.UNKNOWN, false, T0, 1)));
            assertThat(store.load().trees().get(IMAGE).edges()).isEqualTo(second.edges());
        } finally {
            store.close();
        }
    }
}
