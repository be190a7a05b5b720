package dev.virtman.cli;

import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.client.ManagerClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code virtman tree IMAGE}: an image's distribution tree as indented text. */
@Command(name = "tree", mixinStandardHelpOptions = true, description = "Show an image's distribution tree.")
public final class TreeCommand extends ManagerClientCommand {

    private static final String INDENT = "  ";

    @Parameters(index = "0", paramLabel = "IMAGE", description = "Image id or name.")
    String image;

    @Override
    void run(final ManagerClient client, final PrintWriter out) throws Exception {
        TreeView tree = client.tree(image);
        print(tree, out);
    }

    static void print(final TreeView tree, final PrintWriter out) {
        out.printf("image %s: %d hosts, depth %d (fan-out %d, source fan-out %d, max depth %d)%n", tree.imageId(),
                tree.nodes().size(), tree.depth(), tree.fanOut(), tree.sourceFanOut(), tree.maxDepth());
        Map<String, TreeView.Node> byId = new HashMap<>();
        List<String> roots = new ArrayList<>();
        for (TreeView.Node n : tree.nodes()) {
            byId.put(n.hostId(), n);
            if (n.parent() == null) {
                roots.add(n.hostId());
            }
        }
        out.println("source");
        for (String root : roots) {
            printNode(byId, root, 1, out);
        }
        if (!tree.unplaced().isEmpty()) {
            out.printf("unplaced (no free slot within bounds): %s%n", String.join(", ", tree.unplaced()));
        }
    }

    private static void printNode(final Map<String, TreeView.Node> byId, final String id, final int depth,
                                  final PrintWriter out) {
        TreeView.Node n = byId.get(id);
        StringBuilder line = new StringBuilder(INDENT.repeat(depth)).append(n.hostId()).append(' ').append(n.address());
        if (!n.rack().isEmpty() || !n.zone().isEmpty()) {
            line.append(" [rack ").append(n.rack().isEmpty() ? "-" : n.rack())
                    .append(", zone ").append(n.zone().isEmpty() ? "-" : n.zone()).append(']');
        }
        out.println(line);
        for (String child : n.children()) {
            printNode(byId, child, depth + 1, out);
        }
    }
}
