package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A private RabbitMQ broker for tests (Debian's rabbitmq-server, the AMQP transport OpenStack
 * services talk over), run directly with everything under a temporary directory: its own Erlang
 * node name, AMQP port and distribution port on 127.0.0.1, and its own {@code epmd} (started
 * here in the foreground on a free port, so it is this fixture's child and stops with it; the
 * broker would otherwise leave a daemon epmd on the shared port 4369 behind).
 */
public final class RabbitMqProcess implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(2);
    private static final String BROKER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

    private final Process epmd;
    private final Process broker;
    private final Path dir;
    private final int port;

    private RabbitMqProcess(final Process epmd, final Process broker, final Path dir, final int port) {
        this.epmd = epmd;
        this.broker = broker;
        this.dir = dir;
        this.port = port;
    }

    /** Starts epmd and the broker and waits until the AMQP port accepts connections. */
    public static RabbitMqProcess start() {
        Path dir;
        try {
            dir = Files.createTempDirectory("virtman-rabbitmq-");
            Files.createDirectories(dir.resolve("home"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int port = FreePorts.loopbackPort();
        int epmdPort = FreePorts.loopbackPort();
        int distPort = FreePorts.loopbackPort();
        Process epmd = null;
        Process broker = null;
        try {
            Files.writeString(dir.resolve("rabbitmq.conf"), """
                    listeners.tcp.1 = 127.0.0.1:%d
                    loopback_users = none
                    distribution.listener.interface = 127.0.0.1
                    distribution.listener.port_range.min = %d
                    distribution.listener.port_range.max = %d
                    """.formatted(port, distPort, distPort));
            epmd = new ProcessBuilder("epmd", "-port", Integer.toString(epmdPort), "-address", "127.0.0.1")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("epmd.log").toFile()).start();
            ProcessBuilder pb = new ProcessBuilder(BROKER).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("broker.log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            Map<String, String> env = pb.environment();
            env.put("HOME", dir.resolve("home").toString());
            env.put("ERL_EPMD_PORT", Integer.toString(epmdPort));
            env.put("ERL_EPMD_ADDRESS", "127.0.0.1");
            env.put("RABBITMQ_NODENAME", "virtman" + port + "@localhost");
            env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
            env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
            env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString());
            env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
            env.put("RABBITMQ_PID_FILE", dir.resolve("pid").toString());
            broker = pb.start();
        } catch (IOException e) {
            stop(broker, epmd, dir);
            throw new UncheckedIOException("cannot start rabbitmq-server (Debian package rabbitmq-server; "
                    + "scripts/install-deps)", e);
        }
        RabbitMqProcess rabbit = new RabbitMqProcess(epmd, broker, dir, port);
        if (!FreePorts.awaitListening(port, READY_TIMEOUT) || !broker.isAlive()) {
            String log = rabbit.logText();
            rabbit.close();
            throw new IllegalStateException("rabbitmq-server not listening on " + port + " within " + READY_TIMEOUT
                    + "; log:\n" + log);
        }
        return rabbit;
    }

    /** The oslo.messaging transport URL ({@code rabbit://guest:guest@127.0.0.1:PORT/}). */
    public String transportUrl() {
        return "rabbit://guest:guest@127.0.0.1:" + port + "/";
    }

    public String logText() {
        try {
            return Commands.tail(Files.readString(dir.resolve("broker.log")));
        } catch (IOException e) {
            return "(no broker log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        stop(broker, epmd, dir);
    }

    private static void stop(final Process broker, final Process epmd, final Path dir) {
        for (Process p : List.of(broker == null ? epmd : broker, epmd)) {
            if (p != null && p.isAlive()) {
                Commands.killTree(p);
            }
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp directory does not affect other tests
        }
    }

    @Override
    public String toString() {
        return "rabbitmq-server(pid " + broker.pid() + ", port " + port + ")";
    }
}
