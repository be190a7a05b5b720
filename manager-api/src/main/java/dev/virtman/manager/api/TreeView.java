package dev.virtman.manager.api;

import java.util.List;

/**
 * {@code GET /v1/images/{id}/tree}: every node, breadth-first.
 *
 * @param unplaced live hosts waiting for a slot
 */
public record TreeView(String imageId, int fanOut, int sourceFanOut, int maxDepth, int depth,
                       List<Node> nodes, List<String> unplaced) {

    /**
     * @param parent {@code null} for children of the source
     */
    public record Node(String hostId, String address, String rack, String zone, String parent,
                       List<String> children, int depth) { }
}
