package dev.virtman.sim;

/**
 * How hosts get the image's chunks.
 *
 * @param kind   the mechanism
 * @param fanOut children per node for {@link Kind#TREE} (the source included), else 0
 */
public record Strategy(Kind kind, int fanOut) {

    /** The mechanisms compared. */
    public enum Kind {
        /** Each host copies the whole image from the source, then boots its VMs from the copy. */
        FULL_COPY,
        /** Every host fetches the chunks its VMs read from the source (no tree). */
        FLAT,
        /** Hosts fetch from their parent in the manager's tree (TreePlanner), failing over upwards. */
        TREE,
        /** A host fetches each chunk from any peer that has it (two random holders, the less busy). */
        MULTI_PARENT
    }

    public static final Strategy FULL_COPY = new Strategy(Kind.FULL_COPY, 0);
    public static final Strategy FLAT = new Strategy(Kind.FLAT, 0);
    public static final Strategy MULTI_PARENT = new Strategy(Kind.MULTI_PARENT, 0);

    public Strategy {
        if ((kind == Kind.TREE) != (fanOut > 0)) {
            throw new IllegalArgumentException("fan-out is for trees only, and a tree needs one");
        }
    }

    public static Strategy tree(final int fanOut) {
        return new Strategy(Kind.TREE, fanOut);
    }

    /** Parses full-copy, flat, tree-F (e.g. tree-2) or multi-parent. */
    public static Strategy parse(final String text) {
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (s) {
            case "full-copy" -> FULL_COPY;
            case "flat" -> FLAT;
            case "multi-parent" -> MULTI_PARENT;
            default -> {
                if (s.startsWith("tree-")) {
                    try {
                        yield tree(Integer.parseInt(s.substring("tree-".length())));
                    } catch (NumberFormatException e) {
                        // fall through to the error below
                    }
                }
                throw new IllegalArgumentException("unknown strategy '" + text
                        + "' (full-copy, flat, tree-F such as tree-2, multi-parent)");
            }
        };
    }

    public String label() {
        return switch (kind) {
            case FULL_COPY -> "full-copy";
            case FLAT -> "flat";
            case TREE -> "tree-" + fanOut;
            case MULTI_PARENT -> "multi-parent";
        };
    }

    @Override
    public String toString() {
        return label();
    }
}
