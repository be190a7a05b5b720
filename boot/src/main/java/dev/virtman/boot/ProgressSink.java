package dev.virtman.boot;

/** Where a boot reports what it is doing: the terminal for the CLI, nothing for tests. */
public interface ProgressSink {
    /** A one-off step ("starting 2 agents..."). */
    void note(String line);

    /** The current status line; a terminal redraws it in place. */
    void status(String line);

    ProgressSink NONE = new ProgressSink() {
        @Override
        public void note(final String line) {
        }

        @Override
        public void status(final String line) {
        }
    };
}
