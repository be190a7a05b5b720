package dev.virtman.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line chart written as SVG text: named series of (x, y) points, linear or log axes,
 * a legend. Enough for the simulation's CDF and scaling figures without a plotting library.
 */
public final class SvgPlot {
    private static final int WIDTH = 720;
    private static final int HEIGHT = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 170;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;
    private static final String[] COLOURS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final boolean logX;
    private final boolean logY;
    private final List<String> names = new ArrayList<>();
    private final List<double[][]> series = new ArrayList<>();

    public SvgPlot(final String title, final String xLabel, final String yLabel, final boolean logX,
                   final boolean logY) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logX = logX;
        this.logY = logY;
    }

    /** Adds a series; {@code xs} and {@code ys} of equal length. Points not drawable on a log axis are skipped. */
    public SvgPlot add(final String name, final double[] xs, final double[] ys) {
        if (xs.length != ys.length) {
            throw new IllegalArgumentException("xs and ys differ in length");
        }
        names.add(name);
        series.add(new double[][] {xs.clone(), ys.clone()});
        return this;
    }

    /** The cumulative distribution of sorted {@code values} as a step series. */
    public SvgPlot addCdf(final String name, final double[] sortedValues) {
        int n = sortedValues.length;
        double[] xs = new double[2 * n];
        double[] ys = new double[2 * n];
        for (int i = 0; i < n; i++) {
            xs[2 * i] = sortedValues[i];
            ys[2 * i] = (double) i / n;
            xs[2 * i + 1] = sortedValues[i];
            ys[2 * i + 1] = (double) (i + 1) / n;
        }
        return add(name, xs, ys);
    }

    public String render() {
        double[] xr = range(0);
        double[] yr = range(1);
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT));
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\">%s</text>%n", LEFT, esc(title)));
        int pw = WIDTH - LEFT - RIGHT;
        int ph = HEIGHT - TOP - BOTTOM;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
                + " stroke=\"#444\"/>%n", LEFT, TOP, pw, ph));
        for (double t : ticks(xr, logX)) {
            double px = LEFT + pw * frac(t, xr, logX);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", px, TOP, px, TOP + ph, px,
                    TOP + ph + 16, num(t)));
        }
        for (double t : ticks(yr, logY)) {
            double py = TOP + ph * (1 - frac(t, yr, logY));
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT, py, LEFT + pw, py, LEFT - 6,
                    py + 4, num(t)));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                LEFT + pw / 2, HEIGHT - 12, esc(xLabel)));
        s.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 16 %d)\">"
                + "%s</text>%n", TOP + ph / 2, TOP + ph / 2, esc(yLabel)));
        for (int i = 0; i < series.size(); i++) {
            String colour = COLOURS[i % COLOURS.length];
            StringBuilder pts = new StringBuilder();
            double[][] xy = series.get(i);
            for (int k = 0; k < xy[0].length; k++) {
                if (drawable(xy[0][k], logX) && drawable(xy[1][k], logY)) {
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", LEFT + pw * frac(xy[0][k], xr, logX),
                            TOP + ph * (1 - frac(xy[1][k], yr, logY))));
                }
            }
            s.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                    colour, pts.toString().trim()));
            int ly = TOP + 10 + 18 * i;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\""
                    + " stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">%s</text>%n", LEFT + pw + 10, ly, LEFT + pw + 30, ly,
                    colour, LEFT + pw + 36, ly + 4, esc(names.get(i))));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private double[] range(final int axis) {
        boolean log = axis == 0 ? logX : logY;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[][] xy : series) {
            for (double v : xy[axis]) {
                if (drawable(v, log)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) {
            return new double[] {log ? 1 : 0, log ? 10 : 1};
        }
        if (log) {
            return new double[] {Math.pow(10, Math.floor(Math.log10(lo))), Math.pow(10, Math.ceil(Math.log10(hi)))};
        }
        double lower = Math.min(0, lo);
        return new double[] {lower, hi == lower ? lower + 1 : hi * 1.05};
    }

    private static boolean drawable(final double v, final boolean log) {
        return Double.isFinite(v) && (!log || v > 0);
    }

    private static double frac(final double v, final double[] r, final boolean log) {
        if (log) {
            return (Math.log10(v) - Math.log10(r[0])) / (Math.log10(r[1]) - Math.log10(r[0]));
        }
        return (v - r[0]) / (r[1] - r[0]);
    }

    private static List<Double> ticks(final double[] r, final boolean log) {
        List<Double> t = new ArrayList<>();
        if (log) {
            for (double v = r[0]; v <= r[1] * 1.0001; v *= 10) {
                t.add(v);
            }
            return t;
        }
        double span = r[1] - r[0];
        double step = Math.pow(10, Math.floor(Math.log10(span / 5)));
        if (span / step > 10) {
            step *= 2;
        }
        if (span / step > 10) {
            step *= 2.5;
        }
        for (double v = Math.ceil(r[0] / step) * step; v <= r[1] + 1e-9; v += step) {
            t.add(v);
        }
        return t;
    }

    private static String num(final double v) {
        if (v != 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-2)) {
            return String.format(Locale.ROOT, "%.0e", v);
        }
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2g", v);
    }

    private static String esc(final String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
