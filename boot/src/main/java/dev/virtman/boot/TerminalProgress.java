package dev.virtman.boot;

import java.io.PrintStream;

/**
 * Progress on a terminal: the status line is redrawn in place; when the output is not a
 * terminal (CI logs, pipes) a status line is printed when the VM counts change, or every
 * {@value #QUIET_STATUS_SECONDS} s, so a long boot does not flood the log.
 */
public final class TerminalProgress implements ProgressSink {
    private static final String CLEAR_LINE = "\r\033[K";
    private static final int QUIET_STATUS_SECONDS = 10;

    private final PrintStream out;
    private final boolean interactive;
    private String lastStatus = "";
    private long lastPrinted;
    private boolean statusShown;

    public TerminalProgress(final PrintStream out, final boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    public static TerminalProgress forStdout() {
        return new TerminalProgress(System.out, System.console() != null && System.getenv("TERM") != null
                && !"dumb".equals(System.getenv("TERM")));
    }

    @Override
    public synchronized void note(final String line) {
        finishStatus();
        out.println(line);
        out.flush();
    }

    @Override
    public synchronized void status(final String line) {
        if (interactive) {
            out.print(CLEAR_LINE + line);
            statusShown = true;
        } else {
            // the VM counts sit between the clock and the data figures: "[ 1.0s] 2 booting | ..."
            String counts = line.replaceFirst("^\\[[^]]*] ", "").replaceFirst("\\|.*$", "");
            long now = System.nanoTime();
            if (!counts.equals(lastStatus) || now - lastPrinted >= QUIET_STATUS_SECONDS * 1_000_000_000L) {
                out.println(line);
                lastStatus = counts;
                lastPrinted = now;
            }
        }
        out.flush();
    }

    /** Ends an in-place status line so that the next output starts on a fresh line. */
    public synchronized void finishStatus() {
        if (interactive && statusShown) {
            out.println();
            statusShown = false;
        }
    }
}
