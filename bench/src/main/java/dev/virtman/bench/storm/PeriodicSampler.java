package dev.virtman.bench.storm;

/**
 * Runs a sample every period on a daemon platform thread of its own until closed, then runs a
 * last step on that thread (e.g. reading its own CPU clock): the loop {@link HeapSampler} and
 * {@link VmCpuMeter} share. A platform thread, not a virtual one: the storm's thousands of busy
 * virtual threads would delay it.
 */
final class PeriodicSampler implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;

    PeriodicSampler(final String name, final long periodMillis, final Runnable sample, final Runnable atEnd) {
        thread = Thread.ofPlatform().daemon().name(name).start(() -> {
            while (running) {
                sample.run();
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    break;
                }
            }
            atEnd.run();
        });
    }

    /** Stops sampling; the last step runs on the sampler's thread ({@link #join} waits for it). */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }

    void join() throws InterruptedException {
        thread.join();
    }
}
