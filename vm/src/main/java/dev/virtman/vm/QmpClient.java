package dev.virtman.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A minimal client of the QEMU Machine Protocol over QEMU's {@code -qmp unix:PATH,server=on,wait=off}
 * socket: JSON objects, one per line. The server greets with {@code {"QMP": ...}}; the client must
 * send {@code qmp_capabilities} before any other command; each command gets one {@code return} or
 * {@code error} object, and asynchronous {@code event} objects may arrive in between (skipped here).
 * Every read is bounded by a timeout, so a wedged QEMU cannot hang its caller.
 */
final class QmpClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A QMP reply longer than this is not one we asked for; stop rather than buffer it. */
    private static final int MAX_LINE_CHARS = 1 << 20;

    private final SocketChannel channel;
    private final BufferedReader in;
    private final Duration timeout;
    private final ExecutorService reader = Executors.newVirtualThreadPerTaskExecutor();

    private QmpClient(final SocketChannel channel, final Duration timeout) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.timeout = timeout;
    }

    /** Connects, reads the greeting and negotiates capabilities. */
    static QmpClient connect(final Path socket, final Duration timeout) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        QmpClient c = new QmpClient(ch, timeout);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            JsonNode greeting = c.readObject();
            if (!greeting.has("QMP")) {
                throw new IOException("not a QMP greeting: " + greeting);
            }
            c.execute("qmp_capabilities");
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Runs a command without arguments and returns its {@code return} value. */
    JsonNode execute(final String command) throws IOException {
        ObjectNode request = JSON.createObjectNode().put("execute", command);
        byte[] line = (JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.wrap(line);
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        while (true) {
            JsonNode reply = readObject();
            if (reply.has("return")) {
                return reply.get("return");
            }
            if (reply.has("error")) {
                throw new IOException("QMP " + command + " failed: " + reply.get("error").path("desc").asText(reply.toString()));
            }
            // An event ({"event": ...}): not the answer, keep reading.
        }
    }

    private JsonNode readObject() throws IOException {
        Future<String> f = reader.submit(this::readBoundedLine);
        try {
            String line = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new IOException("QMP connection closed by QEMU");
            }
            return JSON.readTree(line);
        } catch (TimeoutException e) {
            close(); // unblocks the reader thread
            throw new IOException("no QMP reply within " + timeout, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IOException("interrupted waiting for QMP", e);
        }
    }

    private String readBoundedLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); c != -1; c = in.read()) {
            if (c == '\n') {
                return sb.toString();
            }
            if (sb.length() >= MAX_LINE_CHARS) {
                throw new IOException("QMP line longer than " + MAX_LINE_CHARS + " characters");
            }
            sb.append((char) c);
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket we are done with; nothing to do about a failure
        }
        reader.shutdownNow();
    }
}
