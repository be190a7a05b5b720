package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.UUID;

/**
 * A real etcd cluster for tests: N members of Debian's {@code etcd-server} (installed by
 * {@code scripts/install-deps --test}), member i on loopback address {@code 127.0.0.(20+i)} with
 * free client and peer ports, data in its own 0700 directory, output in {@code member-i.log}.
 * Members can be killed (SIGKILL) and restarted on their data to test quorum loss. {@link #close}
 * kills every member; a start that fails kills what it started.
 *
 * <p>Raft timing is tightened (heartbeat 50 ms, election 500 ms) so a lost member is noticed
 * quickly on loopback, and a transaction may hold up to 10,000 operations in 32 MiB, what the
 * manager needs to fail many hosts in one change (docs/manager.md says the same for production).
 */
public final class EtcdCluster implements AutoCloseable {
    public static final String ETCD = "/usr/bin/etcd";
    private static final int FIRST_ADDRESS = 20;
    private static final int START_ATTEMPTS = 3;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(100);

    private final Path dir;
    private final List<Member> members;
    private final String initialCluster;
    private final String token;
    private final Process[] processes;

    private record Member(String name, String address, int clientPort, int peerPort) {
        URI clientUrl() {
            return URI.create("http://" + address + ":" + clientPort);
        }

        String peerUrl() {
            return "http://" + address + ":" + peerPort;
        }
    }

    private EtcdCluster(final Path dir, final List<Member> members) {
        this.dir = dir;
        this.members = members;
        StringJoiner cluster = new StringJoiner(",");
        members.forEach(m -> cluster.add(m.name() + "=" + m.peerUrl()));
        this.initialCluster = cluster.toString();
        this.token = "virtman-test-" + UUID.randomUUID();
        this.processes = new Process[members.size()];
    }

    /** Starts {@code size} members under {@code dir} and waits until all are healthy. */
    public static EtcdCluster start(final int size, final Path dir) {
        if (!Files.isExecutable(Path.of(ETCD))) {
            throw new IllegalStateException(ETCD + " is missing: run scripts/install-deps --test (Debian etcd-server)");
        }
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            Path attemptDir = dir.resolve("etcd-" + attempt);
            List<Member> members = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                String address = "127.0.0." + (FIRST_ADDRESS + i);
                members.add(new Member("m" + i, address, freePort(address), freePort(address)));
            }
            EtcdCluster cluster = new EtcdCluster(attemptDir, members);
            try {
                for (int i = 0; i < size; i++) {
                    cluster.launch(i, "new");
                }
                for (int i = 0; i < size; i++) {
                    cluster.awaitHealthy(i);
                }
                return cluster;
            } catch (IllegalStateException e) {
                cluster.close(); // a port taken meanwhile: try again on fresh ports
                last = e;
            }
        }
        throw last;
    }

    public int size() {
        return members.size();
    }

    /** Every member's client URL. */
    public List<URI> clientUrls() {
        return members.stream().map(Member::clientUrl).toList();
    }

    /** The client URLs joined with commas, as {@code --etcd} takes them. */
    public String endpoints() {
        StringJoiner j = new StringJoiner(",");
        clientUrls().forEach(u -> j.add(u.toString()));
        return j.toString();
    }

    public URI clientUrl(final int member) {
        return members.get(member).clientUrl();
    }

    /** SIGKILL to member {@code i}, waiting until it is gone. */
    public void kill(final int i) {
        Process p = processes[i];
        if (p != null) {
            p.destroyForcibly();
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            processes[i] = null;
        }
    }

    /** Restarts a killed member on its data directory; waits until it answers (healthy once it has quorum). */
    public void restart(final int i) {
        if (processes[i] != null && processes[i].isAlive()) {
            throw new IllegalStateException("member " + i + " is running");
        }
        launch(i, "existing");
        awaitListening(i);
    }

    public boolean running(final int i) {
        return processes[i] != null && processes[i].isAlive();
    }

    public String log(final int i) {
        try {
            return Files.readString(dir.resolve("member-" + i + ".log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void launch(final int i, final String state) {
        Member m = members.get(i);
        Path data = dir.resolve(m.name());
        try {
            Files.createDirectories(data.getParent());
            if (!Files.exists(data)) {
                Files.createDirectory(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            List<String> command = List.of(ETCD, "--name", m.name(), "--data-dir", data.toString(),
                    "--listen-client-urls", m.clientUrl().toString(), "--advertise-client-urls", m.clientUrl().toString(),
                    "--listen-peer-urls", m.peerUrl(), "--initial-advertise-peer-urls", m.peerUrl(),
                    "--initial-cluster", initialCluster, "--initial-cluster-state", state,
                    "--initial-cluster-token", token, "--heartbeat-interval", "50", "--election-timeout", "500",
                    "--max-txn-ops", "10000", "--max-request-bytes", "33554432", "--logger", "zap",
                    "--log-level", "warn");
            processes[i] = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("member-" + i + ".log").toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start etcd member " + i, e);
        }
    }

    private void awaitHealthy(final int i) {
        HttpClient http = HttpClient.newHttpClient();
        HttpReadiness.await(http, processes[i], "etcd member " + i, URI.create(members.get(i).clientUrl() + "/health"),
                READY_TIMEOUT, POLL, () -> log(i));
    }

    private void awaitListening(final int i) {
        Member m = members.get(i);
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!processes[i].isAlive()) {
                throw new IllegalStateException("etcd member " + i + " exited; log:\n" + Commands.tail(log(i)));
            }
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new InetSocketAddress(m.address(), m.clientPort()), 500);
                return;
            } catch (IOException notYet) {
                FreePorts.sleep(POLL);
            }
        }
        throw new IllegalStateException("etcd member " + i + " not listening within " + READY_TIMEOUT);
    }

    private static int freePort(final String address) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + address, e);
        }
    }

    /** Kills every member. */
    @Override
    public void close() {
        for (int i = 0; i < processes.length; i++) {
            kill(i);
        }
    }
}
