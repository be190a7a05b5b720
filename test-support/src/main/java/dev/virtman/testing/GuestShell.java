package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs shell commands in a guest of {@code scripts/build-linux-stack-guest} and reads their
 * results, over the virtio-serial port QEMU exposes as a Unix socket (the protocol is described in
 * that script). Several commands may run at once: each reply names its command, so a test can
 * read a disk in the guest while it kills a target on the host.
 */
public final class GuestShell implements AutoCloseable {
    /** A command's reply arrives this long after its own guest-side timeout at the latest. */
    private static final Duration REPLY_SLACK = Duration.ofSeconds(30);
    private static final Duration PING_EVERY = Duration.ofSeconds(2);
    /** A reply line longer than this is a runaway command: the shell refuses to buffer more. */
    private static final int MAX_LINE_BYTES = 64 << 20;

    /**
     * One command's outcome.
     *
     * @param script   what ran ({@code /bin/sh -c})
     * @param exitCode its exit status (124: the guest killed it at its timeout)
     * @param stdout   standard output
     * @param stderr   standard error
     */
    public record Result(String script, int exitCode, String stdout, String stderr) {
        public boolean succeeded() {
            return exitCode == 0;
        }

        /** Returns this result, or throws with the script and both outputs if it failed. */
        public Result requireSuccess() {
            if (!succeeded()) {
                throw new IllegalStateException(describe());
            }
            return this;
        }

        public String describe() {
            return "guest command exited with " + exitCode + ":\n" + script + "\n--- stdout:\n"
                    + Commands.tail(stdout) + "\n--- stderr:\n" + Commands.tail(stderr);
        }
    }

    private final SocketChannel channel;
    private final Map<String, CompletableFuture<Result>> pending = new ConcurrentHashMap<>();
    private final Map<String, String> scripts = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Thread reader;
    private volatile boolean closed;

    private GuestShell(final SocketChannel channel) {
        this.channel = channel;
        this.reader = Thread.ofPlatform().daemon().name("guest-shell-reader").start(this::readLoop);
    }

    /**
     * Connects to QEMU's end of the port ({@code -chardev socket,path=SOCKET,server=on,wait=off})
     * and waits until the guest's agent answers, pinging it meanwhile (the guest may still boot).
     */
    public static GuestShell connect(final Path socket, final Duration timeout, final Runnable aliveCheck) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel channel;
        while (true) {
            try {
                channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                break;
            } catch (IOException e) {
                aliveCheck.run();
                if (System.nanoTime() > deadline) {
                    throw new UncheckedIOException("cannot connect to the guest's command port " + socket, e);
                }
                FreePorts.sleep(Duration.ofMillis(200));
            }
        }
        GuestShell shell = new GuestShell(channel);
        try {
            while (!shell.ready.isDone()) {
                aliveCheck.run();
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the guest's command agent did not answer within " + timeout);
                }
                shell.send("PING");
                try {
                    shell.ready.get(PING_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // ping again
                }
            }
            return shell;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shell.close();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | RuntimeException e) {
            shell.close();
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** Runs {@code script} and waits for it (the guest kills it after {@code timeout}). */
    public Result run(final String script, final Duration timeout) {
        CompletableFuture<Result> f = start(script, timeout);
        try {
            return f.get(timeout.plus(REPLY_SLACK).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("guest command failed: " + script, e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no reply from the guest within " + timeout.plus(REPLY_SLACK) + " for: " + script);
        }
    }

    /** Runs {@code script}, fails unless it exits 0, and returns its standard output. */
    public String check(final String script, final Duration timeout) {
        return run(script, timeout).requireSuccess().stdout();
    }

    /** Starts {@code script} without waiting; the future completes with its result. */
    public CompletableFuture<Result> start(final String script, final Duration timeout) {
        String id = Long.toString(ids.incrementAndGet());
        CompletableFuture<Result> f = new CompletableFuture<>();
        pending.put(id, f);
        scripts.put(id, script);
        String encoded = Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8));
        send("RUN " + id + " " + Math.max(1, timeout.toSeconds()) + " " + encoded);
        return f;
    }

    private void send(final String line) {
        ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
        synchronized (channel) {
            try {
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("the guest's command port closed", e);
            }
        }
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        StringBuilder line = new StringBuilder();
        try {
            while (channel.read(buf) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    char c = (char) (buf.get() & 0xff);
                    if (c == '\n') {
                        onLine(line.toString());
                        line.setLength(0);
                    } else if (line.length() < MAX_LINE_BYTES) {
                        line.append(c);
                    }
                }
                buf.clear();
            }
        } catch (IOException e) {
            // closed
        }
        IllegalStateException gone = new IllegalStateException("the guest's command port closed (guest stopped?)");
        ready.completeExceptionally(gone);
        pending.values().forEach(f -> f.completeExceptionally(gone));
    }

    private void onLine(final String text) {
        String[] words = text.strip().split(" ");
        if (words[0].endsWith("READY")) {
            ready.complete(null);
        } else if (words[0].equals("DONE") && words.length == 5) {
            CompletableFuture<Result> f = pending.remove(words[1]);
            String script = scripts.remove(words[1]);
            if (f != null) {
                f.complete(new Result(script, Integer.parseInt(words[2]), decode(words[3]), decode(words[4])));
            }
        }
    }

    private static String decode(final String field) {
        return field.equals("-") ? "" : new String(Base64.getDecoder().decode(field), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
