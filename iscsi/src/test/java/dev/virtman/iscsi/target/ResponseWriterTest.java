package dev.virtman.iscsi.target;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.iscsi.pdu.DataInHeader;
import dev.virtman.iscsi.pdu.DecodeResult;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduDecoder;
import dev.virtman.iscsi.pdu.PduEncoder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The writer's gathering write: direct Data-In buffers go to the socket in place, between headers
 * and padding copied into the staging buffer, and the peer decodes the same PDUs in the same order.
 */
class ResponseWriterTest {

    private ServerSocketChannel listener;
    private SocketChannel writerSide;
    private SocketChannel peer;

    @BeforeEach
    void connect() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        writerSide = SocketChannel.open(listener.getLocalAddress());
        peer = listener.accept();
    }

    @AfterEach
    void close() throws IOException {
        peer.close();
        writerSide.close();
        listener.close();
    }

    @Test
    void directAndHeapDataArriveInOrderWithTheirPadding() throws Exception {
        List<ByteBuffer> payloads = List.of(direct(40_001, 1), heap(3_000, 2), direct(4_096, 3), heap(10, 4),
                direct(131_072, 5), direct(7, 6));
        assertThat(writeAndDecode(payloads)).containsExactlyElementsOf(payloads);
    }

    @Test
    void moreDirectBuffersThanOneGatheringWriteTakes() throws Exception {
        List<ByteBuffer> payloads = new ArrayList<>();
        for (int i = 0; i < 700; i++) {
            payloads.add(i % 3 == 2 ? heap(5_000, i) : direct(8_192 + i, i));
        }
        assertThat(writeAndDecode(payloads)).containsExactlyElementsOf(payloads);
    }

    @Test
    void everyCompletionRunsOnceAfterTheWrite() throws Exception {
        AtomicInteger done = new AtomicInteger();
        ResponseWriter writer = new ResponseWriter(writerSide, new PduEncoder(), 1 << 24, n -> { }, () -> { });
        List<ResponseWriter.Outbound> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            out.add(new ResponseWriter.Outbound(dataIn(i, direct(16_384, i)), ResponseWriter.Sequencing.WINDOW_ONLY,
                    done::incrementAndGet));
        }
        assertThat(writer.sendAll(out)).isTrue();
        assertThat(done).hasValue(3);
        writer.close();
        assertThat(writer.sendAll(List.of(new ResponseWriter.Outbound(dataIn(9, direct(16_384, 9)),
                ResponseWriter.Sequencing.WINDOW_ONLY, done::incrementAndGet)))).isFalse();
        assertThat(done).hasValue(4);
    }

    /** Sends the payloads as Data-In PDUs from this (platform) thread and decodes what the peer gets. */
    private List<ByteBuffer> writeAndDecode(final List<ByteBuffer> payloads) throws Exception {
        ResponseWriter writer = new ResponseWriter(writerSide, new PduEncoder(), 1 << 26, n -> { }, () -> { });
        List<ResponseWriter.Outbound> out = new ArrayList<>();
        long expectedBytes = 0;
        for (int i = 0; i < payloads.size(); i++) {
            out.add(new ResponseWriter.Outbound(dataIn(i, payloads.get(i).duplicate()), ResponseWriter.Sequencing.WINDOW_ONLY));
            expectedBytes += 48 + PduDecoder.padded(payloads.get(i).remaining());
        }
        long total = expectedBytes;
        List<ByteBuffer> received = new ArrayList<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            PduDecoder decoder = new PduDecoder();
            decoder.maxDataSegmentLength(1 << 20);
            ByteBuffer in = ByteBuffer.allocate(1 << 16);
            long read = 0;
            try {
                while (read < total) {
                    int n = peer.read(in);
                    if (n < 0) {
                        break;
                    }
                    read += n;
                    in.flip();
                    while (in.hasRemaining()) {
                        DecodeResult r = decoder.decode(in);
                        if (r instanceof DecodeResult.Decoded d) {
                            received.add(ByteBuffer.allocate(d.pdu().data().remaining()).put(d.pdu().data()).flip());
                        } else if (r instanceof DecodeResult.Malformed m) {
                            throw new IllegalStateException("malformed: " + m.error());
                        }
                    }
                    in.clear();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(writer.sendAll(out)).isTrue();
        reader.join(30_000);
        assertThat(reader.isAlive()).isFalse();
        return received;
    }

    private static Pdu dataIn(final int dataSN, final ByteBuffer data) {
        DataInHeader h = DataInHeader.create().dataSN(dataSN).bufferOffset(0).targetTransferTag(-1);
        h.initiatorTaskTag(dataSN);
        return Pdu.of(h, data);
    }

    private static ByteBuffer direct(final int length, final int seed) {
        return fill(ByteBuffer.allocateDirect(length), seed);
    }

    private static ByteBuffer heap(final int length, final int seed) {
        return fill(ByteBuffer.allocate(length), seed);
    }

    private static ByteBuffer fill(final ByteBuffer b, final int seed) {
        for (int i = 0; i < b.capacity(); i++) {
            b.put((byte) (i * 31 + seed));
        }
        return b.flip();
    }
}
