package dev.virtman.manager.http;

import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.HostStatus;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.ImageStatus;
import dev.virtman.manager.model.ManifestSummary;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.TreeSnapshot;
import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.tree.DistributionTree;
import java.util.ArrayList;
import java.util.List;

/** The manager's domain records as the REST API shows them (the {@code api} views). */
final class Views {

    private Views() {
    }

    static ImageView image(final ImageStatus s) {
        ImageRecord i = s.image();
        ManifestSummary m = i.manifest();
        return new ImageView(i.id(), i.name(), i.path(), m.sizeBytes(), m.chunkSize(), m.chunkCount(), m.digest(),
                m.manifestRef(), TargetNames.sourceIqn(i.id()), i.registeredAt().toString(), s.hosts(), s.hasProfile(),
                i.glance());
    }

    static List<ImageView> images(final List<ImageStatus> images) {
        return images.stream().map(Views::image).toList();
    }

    static HostView host(final HostStatus s) {
        HostRecord h = s.host();
        return new HostView(h.hostId(), h.address(), new Labels(h.locality().rack(), h.locality().zone()), s.state(),
                h.registeredAt().toString(), s.lastSeenMillisAgo(), s.images());
    }

    static List<HostView> hosts(final List<HostStatus> hosts) {
        return hosts.stream().map(Views::host).toList();
    }

    static TreeView tree(final TreeSnapshot t) {
        DistributionTree tree = t.tree();
        List<TreeView.Node> nodes = new ArrayList<>();
        for (String host : tree.breadthFirst()) {
            HostRecord h = t.hosts().get(host);
            String parent = tree.parentOf(host);
            nodes.add(new TreeView.Node(host, h.address(), h.locality().rack(), h.locality().zone(),
                    DistributionTree.SOURCE.equals(parent) ? null : parent, tree.childrenOf(host), tree.depthOf(host)));
        }
        return new TreeView(t.imageId(), t.limits().fanOut(), t.limits().sourceFanOut(), t.limits().maxDepth(),
                tree.depth(), nodes, t.unplaced());
    }

    static BootProfileView profile(final BootProfile p) {
        List<Integer> chunks = new ArrayList<>(p.chunks().length);
        for (int c : p.chunks()) {
            chunks.add(c);
        }
        return new BootProfileView(p.imageId(), chunks, p.recordedBy(), p.recordedAt().toString());
    }
}
