import java.io.*;
import java.lang.management.*;
import java.net.*;
import java.nio.*;
import java.nio.channels.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

/**
 * Loopback probe for issue 16: a cached 32 KiB Data-In answered (a) by pread into a direct buffer
 * plus one gathering write of header + data (the target today), or (b) by a header write plus
 * FileChannel.transferTo (sendfile) of the data. QD1 clients, blocking sockets, TCP_NODELAY as in
 * the target. Prints process CPU per command and the client's read() calls per command.
 *
 * <p>Run: {@code java bench/probes/TransferToProbe.java PAIRS SECONDS ROUNDS} (a single-file
 * program, not part of the build; it writes and deletes a 64 MiB file in /dev/shm). Why it is a
 * probe and not a change: Java has no TCP_CORK or MSG_MORE, so the header goes out as its own
 * write before the sendfile; see docs/benchmarks-log.md, issue 16, "transferTo".
 */
public class TransferToProbe {
    static final int HDR = 48, DATA = 32 * 1024;
    static final long FILE = 64L << 20;

    public static void main(String[] a) throws Exception {
        int pairs = Integer.parseInt(a[0]);
        int seconds = Integer.parseInt(a[1]);
        int rounds = Integer.parseInt(a[2]);
        Path f = Path.of("/dev/shm/transferto-probe.bin");
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            new Random(1).nextBytes(b.array());
            for (long p = 0; p < FILE; p += b.capacity()) { b.clear(); c.write(b, p); }
        }
        try {
            for (int r = 0; r < rounds; r++) {
                for (String mode : (r % 2 == 0 ? List.of("pread+writev", "write+transferTo") : List.of("write+transferTo", "pread+writev"))) {
                    run(mode, f, pairs, seconds);
                }
            }
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static void run(String mode, Path f, int pairs, int seconds) throws Exception {
        ServerSocketChannel ss = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ops = new AtomicLong(), reads = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        FileChannel file = FileChannel.open(f, StandardOpenOption.READ);
        for (int i = 0; i < pairs; i++) {
            SocketChannel client = SocketChannel.open(ss.getLocalAddress());
            SocketChannel server = ss.accept();
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            server.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Thread st = new Thread(() -> serve(mode, server, file));
            st.setDaemon(true);
            st.start();
            int seed = i;
            Thread ct = new Thread(() -> client(client, stop, ops, reads, seed));
            ct.setDaemon(true);
            threads.add(ct);
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        threads.forEach(Thread::start);
        Thread.sleep(1000);
        long o0 = ops.get(), r0 = reads.get(), c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long o1 = ops.get(), r1 = reads.get(), c1 = os.getProcessCpuTime(), t1 = System.nanoTime();
        stop.set(true);
        for (Thread t : threads) t.join(5000);
        ss.close();
        file.close();
        double n = o1 - o0;
        double gib = n * DATA / (double) (1L << 30);
        System.out.printf("%-17s ops/s %8.0f  CPU µs/op %6.1f  core-s/GiB %5.2f  client reads/op %.2f%n", mode,
                n / ((t1 - t0) / 1e9), (c1 - c0) / 1e3 / n, (c1 - c0) / 1e9 / gib, (r1 - r0) / n);
    }

    static void client(SocketChannel ch, AtomicBoolean stop, AtomicLong ops, AtomicLong reads, int seed) {
        ByteBuffer cmd = ByteBuffer.allocateDirect(HDR);
        ByteBuffer in = ByteBuffer.allocateDirect(HDR + DATA);
        Random rnd = new Random(seed);
        try (ch) {
            while (!stop.get()) {
                cmd.clear();
                cmd.putLong(0, (rnd.nextLong() & (FILE / DATA - 1)) * DATA);
                while (cmd.hasRemaining()) ch.write(cmd);
                in.clear();
                while (in.hasRemaining()) {
                    if (ch.read(in) < 0) return;
                    reads.incrementAndGet();
                }
                ops.incrementAndGet();
            }
        } catch (IOException e) {
            // end of run
        }
    }

    static void serve(String mode, SocketChannel ch, FileChannel file) {
        ByteBuffer cmd = ByteBuffer.allocateDirect(HDR);
        ByteBuffer hdr = ByteBuffer.allocateDirect(HDR);
        ByteBuffer data = ByteBuffer.allocateDirect(DATA);
        ByteBuffer[] both = {hdr, data};
        try (ch) {
            while (true) {
                cmd.clear();
                while (cmd.hasRemaining()) if (ch.read(cmd) < 0) return;
                long pos = cmd.getLong(0);
                hdr.clear();
                hdr.putInt(0, 0x25); // a Data-In opcode, for show
                if (mode.equals("pread+writev")) {
                    data.clear();
                    while (data.hasRemaining()) file.read(data, pos + data.position());
                    data.flip();
                    while (data.hasRemaining()) ch.write(both);
                } else {
                    while (hdr.hasRemaining()) ch.write(hdr);
                    long done = 0;
                    while (done < DATA) done += file.transferTo(pos + done, DATA - done, ch);
                }
            }
        } catch (IOException e) {
            // client closed
        }
    }
}
