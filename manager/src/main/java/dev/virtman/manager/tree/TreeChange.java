package dev.virtman.manager.tree;

/**
 * One host whose parent differs between two trees.
 *
 * @param hostId    the host
 * @param oldParent parent before, or {@code null} if the host was not in the tree
 * @param newParent parent after, or {@code null} if the host left the tree (failed, or no slot)
 */
public record TreeChange(String hostId, String oldParent, String newParent) {

    /** What happened to the host. */
    public enum Kind { JOINED, MOVED, REMOVED }

    public Kind kind() {
        if (oldParent == null) {
            return Kind.JOINED;
        }
        return newParent == null ? Kind.REMOVED : Kind.MOVED;
    }
}
