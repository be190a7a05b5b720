package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.DecodeResult;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduDecoder;
import dev.virtman.iscsi.pdu.PduEncoder;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One TCP connection to a target: frames PDUs with the shared {@link PduDecoder} and
 * {@link PduEncoder}. One thread receives (the login exchange, then the session's reader);
 * any thread may send, serialized by a lock so PDUs never interleave on the wire.
 *
 * <p>{@link #close()} may be called from any thread and unblocks a blocked receive or send:
 * that is how a timeout declares a connection dead.
 */
final class InitiatorConnection implements AutoCloseable {

    /**
     * Receive buffer. The decoder assembles a PDU across any number of reads, so this only sets
     * how many bytes one read call may take: 128 KiB (the target's size) is more than loopback's
     * socket buffer delivers at once. It was 1 MiB, which made 1,100 sessions of a boot storm
     * hold 1.1 GiB of heap that was almost never more than a tenth full.
     */
    private static final int READ_BUFFER_BYTES = 128 << 10;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final PduDecoder decoder = new PduDecoder();
    private final PduEncoder encoder = new PduEncoder();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER_BYTES).flip();
    private final String peer;
    private volatile boolean closed;

    private InitiatorConnection(final Socket socket, final String peer) throws IOException {
        this.socket = socket;
        this.peer = peer;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code host:port} within {@code timeout}. */
    static InitiatorConnection open(final String host, final int port, final Duration timeout) throws IOException {
        Socket s = new Socket();
        // Untimed connect bounded by a deadline that closes the socket: a timed connect would leave
        // the socket non-blocking for its whole life (ConnectionDeadline says why that costs).
        try (ConnectionDeadline deadline = ConnectionDeadline.after(timeout, s)) {
            try {
                s.setTcpNoDelay(true); // command PDUs are small and latency-bound
                s.setKeepAlive(true);
                s.connect(new InetSocketAddress(host, port));
                if (deadline.expired()) {
                    throw new SocketTimeoutException("deadline passed");
                }
                return new InitiatorConnection(s, host + ":" + port);
            } catch (IOException e) {
                s.close();
                if (deadline.expired() || e instanceof SocketTimeoutException) {
                    throw new IscsiException("connect to " + host + ":" + port + " timed out after "
                            + timeout.toMillis() + " ms", e);
                }
                throw new IscsiException("cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
            }
        }
    }

    String peer() {
        return peer;
    }

    /**
     * Bounds each blocking receive (0 = wait forever). A timeout makes the JDK switch the socket to
     * non-blocking mode for good (see {@link ConnectionDeadline}); only short-lived discovery
     * sessions use one.
     */
    void readTimeout(final Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    /** Applies negotiated digests and our declared MaxRecvDataSegmentLength (RFC 7143 §13.1, §13.12). */
    void apply(final NegotiatedParameters p) {
        decoder.headerDigest(p.headerDigest());
        decoder.dataDigest(p.dataDigest());
        encoder.headerDigest(p.headerDigest());
        encoder.dataDigest(p.dataDigest());
        decoder.maxDataSegmentLength(p.maxRecvDataSegmentLength());
    }

    /** Bounds the data segments we accept before login completes (§13.12: 8192 until negotiated). */
    void loginReceiveLimit(final int bytes) {
        decoder.maxDataSegmentLength(bytes);
    }

    /** Writes {@code pdu}; thread-safe. */
    void send(final Pdu pdu) throws IOException {
        List<ByteBuffer> parts = new ArrayList<>(4);
        writeLock.lock();
        try {
            encoder.encode(pdu, parts);
            for (ByteBuffer b : parts) {
                if (b.hasArray()) {
                    out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                } else {
                    byte[] copy = new byte[b.remaining()];
                    b.duplicate().get(copy);
                    out.write(copy);
                }
            }
            out.flush();
        } finally {
            writeLock.unlock();
        }
    }

    /** Blocks until one whole PDU has arrived; a malformed stream is an {@link IscsiException}. */
    Pdu receive() throws IOException {
        while (true) {
            if (readBuffer.hasRemaining()) {
                DecodeResult r = decoder.decode(readBuffer);
                if (r instanceof DecodeResult.Decoded d) {
                    return d.pdu();
                }
                if (r instanceof DecodeResult.Malformed m) {
                    // RFC 7143 §7.8: at ERL 0 any digest or framing error ends the connection;
                    // the session recovers by re-login and reissue.
                    throw new IscsiException("malformed PDU from " + peer + ": " + m.error());
                }
            }
            readBuffer.compact();
            int n;
            try {
                n = in.read(readBuffer.array(), readBuffer.position(), readBuffer.remaining());
            } catch (SocketTimeoutException e) {
                readBuffer.flip();
                throw e;
            } catch (IOException e) {
                readBuffer.flip();
                throw closed ? new IscsiException("connection to " + peer + " closed", e) : e;
            }
            if (n < 0) {
                readBuffer.flip();
                throw new EOFException("connection closed by " + peer);
            }
            readBuffer.position(readBuffer.position() + n).flip();
        }
    }

    /** Closes the socket if it is still open after {@code timeout}; close the result when done in time. */
    ConnectionDeadline deadline(final Duration timeout) {
        return ConnectionDeadline.after(timeout, this::close);
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing is best effort; the socket is unusable either way
        }
    }
}
