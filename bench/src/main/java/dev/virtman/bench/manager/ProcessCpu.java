package dev.virtman.bench.manager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of another process from {@code /proc/PID/stat} (utime + stime, in clock ticks). */
final class ProcessCpu {

    /** USER_HZ; 100 on every Linux this runs on ({@code getconf CLK_TCK}). */
    static final int TICKS_PER_SECOND = 100;
    private static final int UTIME_FIELD = 13;

    private ProcessCpu() { }

    static long ticks(final long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        int offset = 2; // fields 1 and 2 were cut off
        return Long.parseLong(f[UTIME_FIELD - offset]) + Long.parseLong(f[UTIME_FIELD + 1 - offset]);
    }
}
