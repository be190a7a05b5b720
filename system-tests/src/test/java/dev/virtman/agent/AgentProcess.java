package dev.virtman.agent;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.virtman.testing.Commands;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code virtman agent} in its own JVM (the test's class path), so a test can kill it with
 * SIGKILL as an operator's OOM killer or power cut would. Reads the agent's ready lines from its
 * standard output and its {@code /status} over HTTP.
 */
final class AgentProcess implements AutoCloseable {
    private static final Pattern EXPORT = Pattern.compile("export (\\S+) (\\S+) present=(\\d+)/(\\d+)");
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(1);

    private final Process process;
    private final String metricsUrl;
    private final List<String> output = new ArrayList<>();
    private String exportUrl;
    private int presentAtStart = -1;

    private AgentProcess(final Process process, final String metricsUrl) {
        this.process = process;
        this.metricsUrl = metricsUrl;
    }

    /** Starts {@code virtman agent ARGS --metrics METRICS} and waits until it exports. */
    static AgentProcess start(final List<String> args, final String metrics, final Path log) {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                "dev.virtman.cli.VirtmanCommand", "agent", "--metrics", metrics));
        command.addAll(args);
        try {
            Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
            AgentProcess agent = new AgentProcess(p, "http://" + metrics);
            agent.awaitReady();
            return agent;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitReady() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                String line;
                while ((line = in.readLine()) != null) {
                    synchronized (output) {
                        output.add(line);
                        output.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        synchronized (output) {
            while (exportUrl == null) {
                for (String line : output) {
                    Matcher m = EXPORT.matcher(line);
                    if (m.matches()) {
                        exportUrl = m.group(2);
                        presentAtStart = Integer.parseInt(m.group(3));
                    }
                }
                if (exportUrl != null) {
                    break;
                }
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("agent did not start: " + output + " alive=" + process.isAlive());
                }
                try {
                    output.wait(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
        waiter.setName("agent-stdout-" + process.pid());
    }

    String exportUrl() {
        return exportUrl;
    }

    int presentAtStart() {
        return presentAtStart;
    }

    /** The agent's {@code /status}. */
    AgentStatus status() {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(metricsUrl + "/status"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                    .readValue(r.body(), AgentStatus.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGKILL: no shutdown hook, no flush, no close. */
    void killHard() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("agent survived SIGKILL");
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            Commands.killTree(process);
        }
    }
}
