package dev.virtman.bench.profile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders collapsed stacks ({@code a;b;c} → samples) as a self-contained SVG flame graph: one box
 * per frame, width proportional to samples, callers below callees, the root ("all") at the
 * bottom, siblings in alphabetical order (so two graphs of the same code line up). Hovering a box
 * shows its frame, samples and share (SVG {@code <title>}). No script, so it renders anywhere.
 */
public final class FlameGraph {
    static final int WIDTH = 1600;
    static final int ROW = 16;
    static final int MARGIN = 10;
    /** Boxes narrower than this many pixels are not drawn (their samples still count in their parents). */
    static final double MIN_BOX = 0.3;
    private static final double CHAR_WIDTH = 6.2;

    private static final class Node {
        final String name;
        final TreeMap<String, Node> children = new TreeMap<>();
        long samples;

        Node(final String name) {
            this.name = name;
        }

        int depth() {
            int d = 0;
            for (Node c : children.values()) {
                d = Math.max(d, c.depth());
            }
            return d + 1;
        }
    }

    private FlameGraph() {
    }

    /** The SVG document for {@code stacks}, titled {@code title}. */
    public static String svg(final String title, final Map<String, Long> stacks) {
        Node root = new Node("all");
        for (Map.Entry<String, Long> e : stacks.entrySet()) {
            root.samples += e.getValue();
            Node n = root;
            for (String frame : e.getKey().split(";")) {
                n = n.children.computeIfAbsent(frame, Node::new);
                n.samples += e.getValue();
            }
        }
        int depth = root.depth();
        int height = (depth + 3) * ROW + 2 * MARGIN;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"monospace\" font-size=\"11\">%n", WIDTH, height));
        b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#f8f8f0\"/>%n", WIDTH, height));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"14\">%s</text>%n", MARGIN, MARGIN + 12,
                escape(title)));
        double scale = root.samples == 0 ? 0 : (WIDTH - 2.0 * MARGIN) / root.samples;
        List<String> boxes = new ArrayList<>();
        draw(root, MARGIN, 0, height - MARGIN - ROW, scale, root.samples, null, boxes);
        boxes.forEach(b::append);
        b.append("</svg>\n");
        return b.toString();
    }

    private static void draw(final Node n, final double x, final int level, final int baseY, final double scale,
                             final long total, final String category, final List<String> out) {
        double w = n.samples * scale;
        if (w < MIN_BOX) {
            return;
        }
        int y = baseY - level * ROW;
        String cat = level == 1 ? n.name : category;
        out.add(String.format(Locale.ROOT, "<g><title>%s (%d samples, %.2f%%)</title><rect x=\"%.2f\" y=\"%d\""
                        + " width=\"%.2f\" height=\"%d\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.3\"/>%s</g>%n",
                escape(n.name), n.samples, 100.0 * n.samples / Math.max(1, total), x, y, w, ROW - 1,
                color(cat, n.name, level), label(n.name, x, y, w)));
        double cx = x;
        List<Node> kids = new ArrayList<>(n.children.values());
        if (level == 0) {
            kids.sort(Comparator.comparingLong((Node k) -> k.samples).reversed()); // categories: biggest first
        }
        for (Node c : kids) {
            draw(c, cx, level + 1, baseY, scale, total, cat, out);
            cx += c.samples * scale;
        }
    }

    private static String label(final String name, final double x, final int y, final double w) {
        int chars = (int) ((w - 4) / CHAR_WIDTH);
        if (chars < 3) {
            return "";
        }
        String text = name.length() <= chars ? name : name.substring(0, chars - 2) + "..";
        return String.format(Locale.ROOT, "<text x=\"%.2f\" y=\"%d\">%s</text>", x + 2, y + ROW - 4, escape(text));
    }

    /** A warm colour per category (so the split reads at a glance), varied a little per frame. */
    private static String color(final String category, final String frame, final int level) {
        if (level == 0) {
            return "#c0c0c0";
        }
        int h = Math.floorMod(category == null ? 0 : category.hashCode(), 360);
        int v = Math.floorMod(frame.hashCode(), 20);
        return String.format(Locale.ROOT, "hsl(%d,%d%%,%d%%)", h, 55 + v, 60 + v / 2);
    }

    static String escape(final String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
