package dev.virtman.bench.profile;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * A JFR recording's CPU samples, cut to a time window, each classified into one part of the
 * data path ({@link CostCategory}) and kept as a root-first stack for a flame graph.
 *
 * <p>Uses {@code jdk.CPUTimeSample} (JDK 25's CPU-time sampler: it samples threads by the CPU
 * they use, in Java and in native code such as socket and file system calls) when the recording
 * has it, else {@code jdk.ExecutionSample} (wall-clock sampling of threads running Java code
 * only, blind to syscalls). GC threads are not Java threads and are never sampled; their CPU
 * comes from {@code jdk.GCCPUTime}.
 */
public final class CpuProfile {
    static final String CPU_TIME_SAMPLE = "jdk.CPUTimeSample";
    static final String EXECUTION_SAMPLE = "jdk.ExecutionSample";
    static final String WINDOW_EVENT = "dev.virtman.StormStrategy";
    /** Frames kept per stack in the flame graph (root side). */
    static final int MAX_DEPTH = 48;

    /** One sample: where it ran and its category. */
    record Sample(String thread, List<String> rootFirst, CostCategory category) {
    }

    private final List<Sample> samples;
    private final String eventType;
    private final double gcCpuSeconds;
    private final double windowSeconds;
    private final long lostSamples;

    private CpuProfile(final List<Sample> samples, final String eventType, final double gcCpuSeconds,
                       final double windowSeconds, final long lostSamples) {
        this.samples = samples;
        this.eventType = eventType;
        this.gcCpuSeconds = gcCpuSeconds;
        this.windowSeconds = windowSeconds;
        this.lostSamples = lostSamples;
    }

    /**
     * Reads {@code recording}; when {@code window} is not null, keeps only samples taken during a
     * {@value #WINDOW_EVENT} event of that strategy (the storm bench emits one per strategy).
     */
    public static CpuProfile read(final Path recording, final String window) throws IOException {
        List<RecordedEvent> events = RecordingFile.readAllEvents(recording);
        List<Instant[]> windows = new ArrayList<>();
        boolean haveCpuTime = false;
        for (RecordedEvent e : events) {
            String type = e.getEventType().getName();
            if (type.equals(WINDOW_EVENT) && window != null && window.equals(e.getString("strategy"))) {
                windows.add(new Instant[] {e.getStartTime(), e.getEndTime()});
            } else if (type.equals(CPU_TIME_SAMPLE)) {
                haveCpuTime = true;
            }
        }
        if (window != null && windows.isEmpty()) {
            throw new IOException("no " + WINDOW_EVENT + " event for strategy '" + window + "' in " + recording);
        }
        String sampleType = haveCpuTime ? CPU_TIME_SAMPLE : EXECUTION_SAMPLE;
        List<Sample> kept = new ArrayList<>();
        double gc = 0;
        long lost = 0;
        for (RecordedEvent e : events) {
            String type = e.getEventType().getName();
            if (!inside(windows, e.getStartTime()) && window != null) {
                continue;
            }
            if (type.equals(sampleType) && e.getStackTrace() != null) {
                RecordedThread t = e.hasField("eventThread") ? e.getThread("eventThread") : e.getThread("sampledThread");
                String thread = t == null || t.getJavaName() == null ? "?" : t.getJavaName();
                List<RecordedFrame> frames = e.getStackTrace().getFrames();
                List<String> leafFirst = new ArrayList<>(frames.size());
                for (RecordedFrame f : frames) {
                    leafFirst.add(frameName(f));
                }
                List<String> rootFirst = new ArrayList<>(leafFirst.reversed());
                kept.add(new Sample(thread, rootFirst, CostCategory.classify(thread, leafFirst)));
            } else if (type.equals("jdk.GCCPUTime")) {
                gc += e.getDuration("userTime").toNanos() / 1e9 + e.getDuration("systemTime").toNanos() / 1e9;
            } else if (type.equals("jdk.CPUTimeSamplesLost")) {
                lost += e.getLong("lostSamples");
            }
        }
        double seconds = 0;
        for (Instant[] w : windows) {
            seconds += (w[1].toEpochMilli() - w[0].toEpochMilli()) / 1e3;
        }
        return new CpuProfile(kept, sampleType, gc, seconds, lost);
    }

    private static boolean inside(final List<Instant[]> windows, final Instant t) {
        for (Instant[] w : windows) {
            if (!t.isBefore(w[0]) && !t.isAfter(w[1])) {
                return true;
            }
        }
        return false;
    }

    /** {@code SimpleClass.method}: short enough for a flame graph's boxes, package dropped. */
    static String frameName(final RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        String simple = type.substring(type.lastIndexOf('.') + 1);
        return simple + "." + f.getMethod().getName();
    }

    public List<Sample> samples() {
        return samples;
    }

    public String eventType() {
        return eventType;
    }

    public double gcCpuSeconds() {
        return gcCpuSeconds;
    }

    public double windowSeconds() {
        return windowSeconds;
    }

    public long lostSamples() {
        return lostSamples;
    }

    /** Samples per category, in {@link CostCategory} order. */
    public Map<CostCategory, Long> byCategory() {
        Map<CostCategory, Long> m = new LinkedHashMap<>();
        for (CostCategory c : CostCategory.values()) {
            m.put(c, 0L);
        }
        for (Sample s : samples) {
            m.merge(s.category(), 1L, Long::sum);
        }
        return m;
    }

    /** Leaf frames with the most samples: where the CPU is actually spent. */
    public List<Map.Entry<String, Long>> topLeaves(final int n) {
        Map<String, Long> m = new HashMap<>();
        for (Sample s : samples) {
            String leaf = s.rootFirst().isEmpty() ? "(no Java frame)" : s.rootFirst().getLast();
            m.merge(leaf, 1L, Long::sum);
        }
        return m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n).toList();
    }

    /** Collapsed stacks, {@code all;category;frame;frame... count} per line (Brendan Gregg's format). */
    public Map<String, Long> collapsed() {
        Map<String, Long> m = new HashMap<>();
        for (Sample s : samples) {
            StringBuilder b = new StringBuilder(s.category().label());
            List<String> frames = s.rootFirst();
            for (int i = 0; i < Math.min(MAX_DEPTH, frames.size()); i++) {
                b.append(';').append(frames.get(i).replace(';', ','));
            }
            m.merge(b.toString(), 1L, Long::sum);
        }
        return m;
    }
}
