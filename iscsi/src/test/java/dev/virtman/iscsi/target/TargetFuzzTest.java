package dev.virtman.iscsi.target;

import dev.virtman.testing.Await;
import dev.virtman.scsi.ScsiCdbs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.iscsi.pdu.DataOutHeader;
import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.LogoutRequestHeader;
import dev.virtman.iscsi.pdu.NopOutHeader;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduEncoder;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import dev.virtman.iscsi.pdu.SnackRequestHeader;
import dev.virtman.iscsi.pdu.TaskManagementFunction;
import dev.virtman.iscsi.pdu.TaskManagementRequestHeader;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import dev.virtman.iscsi.pdu.TextRequestHeader;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throws random and mutated PDU streams at the target from a seed (system property
 * {@code virtman.fuzz.seed}, default fixed; {@code virtman.fuzz.seconds}, default 20), then checks
 * the server is still whole: a normal session reads correct data, every connection got closed or
 * answered, the in-flight data budget is entirely returned and the heap has not grown with the
 * lying length fields.
 */
class TargetFuzzTest {

    private static final long SEED = Long.getLong("virtman.fuzz.seed", 20261126L);
    private static final long SECONDS = Long.getLong("virtman.fuzz.seconds", 20L);
    private static final int MAX_CONNECTIONS = 3000;

    @TempDir
    Path dir;

    @Test
    void survivesRandomAndMutatedPduStreams() throws Exception {
        TargetTuning tuning = TargetTuning.DEFAULTS.withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2),
                Duration.ofSeconds(2));
        Random random = new Random(SEED);
        long heapBefore = usedHeapAfterGc();
        int connections = 0;
        try (TargetFixture f = TargetFixture.start(dir, null, Set.of(), tuning, null)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(SECONDS).toNanos();
            while (System.nanoTime() < deadline && connections < MAX_CONNECTIONS) {
                connections++;
                int kind = random.nextInt(4);
                byte[] stream = switch (kind) {
                    case 0 -> randomBytes(random, random.nextInt(70_000));
                    case 1 -> mutate(random, loginStream(random));
                    default -> mutate(random, concat(loginStream(random), sessionStream(random)));
                };
                try (Socket s = new Socket(f.address().getAddress(), f.address().getPort())) {
                    s.setSoTimeout(100);
                    s.setSoLinger(true, 0);
                    try {
                        s.getOutputStream().write(stream);
                    } catch (IOException e) {
                        // the target may close on us mid-stream: that is a valid answer
                    }
                    drain(s.getInputStream());
                }
            }
            // Everything has been closed by us or the target: budget back, connections gone
            Await.until(() -> f.server.connectionCount() == 0, Duration.ofSeconds(10), "no connection left open");
            Await.until(() -> f.server.availableBudgetBytes() == tuning.inFlightBudgetBytes(), Duration.ofSeconds(10),
                    "the whole in-flight budget back");

            try (TestInitiator i = f.connect()) {
                Pdu login = i.login(TargetFixture.IQN, List.of());
                assertThat(new LoginResponseHeader(login.bhs()).statusClass()).isZero();
                TestInitiator.Result r = i.read(0, ScsiCdbs.read10(8, 64), 64 * 512);
                assertThat(r.data().array()).isEqualTo(Arrays.copyOfRange(f.content, 8 * 512, 72 * 512));
            }
        }
        assertThat(connections).isGreaterThan(10);
        long heapAfter = usedHeapAfterGc();
        assertThat(heapAfter - heapBefore).as("heap growth after %d fuzzed connections (seed %d)", connections, SEED)
                .isLessThan(64L << 20);
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    private static void drain(final InputStream in) throws IOException {
        byte[] buf = new byte[65536];
        long until = System.nanoTime() + Duration.ofMillis(300).toNanos();
        try {
            while (System.nanoTime() < until && in.read(buf) >= 0) {
                // discard whatever the target answers
            }
        } catch (SocketTimeoutException e) {
            // nothing more for now
        } catch (IOException e) {
            // reset by the target
        }
    }

    private static byte[] randomBytes(final Random r, final int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static byte[] concat(final byte[] a, final byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] encode(final List<Pdu> pdus) {
        PduEncoder e = new PduEncoder();
        List<byte[]> parts = new ArrayList<>();
        int total = 0;
        for (Pdu p : pdus) {
            ByteBuffer b = e.encodeToBuffer(p);
            byte[] a = new byte[b.remaining()];
            b.get(a);
            parts.add(a);
            total += a.length;
        }
        byte[] out = new byte[total];
        int o = 0;
        for (byte[] a : parts) {
            System.arraycopy(a, 0, out, o, a.length);
            o += a.length;
        }
        return out;
    }

    /** A valid two-step login to the normal session (security, then operational to FFP). */
    private static byte[] loginStream(final Random r) {
        List<Pdu> pdus = new ArrayList<>();
        var h1 = dev.virtman.iscsi.pdu.LoginRequestHeader.create().transit(true).currentStage(0).nextStage(1)
                .isid(r.nextLong() & 0xffff_ffff_ffffL).cid(1).cmdSN(1);
        h1.initiatorTaskTag(1);
        pdus.add(Pdu.of(h1, TextCodec.encode(List.of(new TextParameter("InitiatorName", "iqn.2026-11.fuzz:i"),
                new TextParameter("TargetName", TargetFixture.IQN), new TextParameter("AuthMethod", "None")))));
        var h2 = dev.virtman.iscsi.pdu.LoginRequestHeader.create().transit(true).currentStage(1).nextStage(3)
                .isid(h1.isid()).cid(1).cmdSN(1);
        h2.initiatorTaskTag(2);
        pdus.add(Pdu.of(h2, TextCodec.encode(List.of(new TextParameter("InitialR2T", "No"),
                new TextParameter("MaxRecvDataSegmentLength", "65536")))));
        return encode(pdus);
    }

    /** A plausible full-feature-phase stream: commands, data, pings, text, task management, logout. */
    private static byte[] sessionStream(final Random r) {
        List<Pdu> pdus = new ArrayList<>();
        int cmdSN = 1;
        int n = 1 + r.nextInt(12);
        for (int i = 0; i < n; i++) {
            int tag = 100 + i;
            switch (r.nextInt(7)) {
                case 0 -> {
                    ScsiCommandHeader h = ScsiCommandHeader.create().read(true).expectedDataTransferLength(4096)
                            .cmdSN(cmdSN++).cdb(ScsiCdbs.read10(r.nextInt(8192), 8));
                    h.initiatorTaskTag(tag);
                    pdus.add(Pdu.of(h));
                }
                case 1 -> {
                    int edtl = 512 * (1 + r.nextInt(256));
                    ScsiCommandHeader h = ScsiCommandHeader.create().write(true).expectedDataTransferLength(edtl)
                            .cmdSN(cmdSN++).cdb(ScsiCdbs.write10(r.nextInt(8000), edtl / 512));
                    h.initiatorTaskTag(tag);
                    int imm = Math.min(edtl, 4096);
                    pdus.add(Pdu.of(h, ByteBuffer.wrap(randomBytes(r, imm))));
                    DataOutHeader d = DataOutHeader.create().targetTransferTag(-1).dataSN(0).bufferOffset(imm);
                    d.initiatorTaskTag(tag);
                    d.finalFlag(true);
                    pdus.add(Pdu.of(d, ByteBuffer.wrap(randomBytes(r, Math.min(edtl - imm, 8192)))));
                }
                case 2 -> {
                    NopOutHeader h = NopOutHeader.create().targetTransferTag(-1).cmdSN(cmdSN);
                    h.immediate(true);
                    h.initiatorTaskTag(tag);
                    pdus.add(Pdu.of(h, ByteBuffer.wrap(randomBytes(r, r.nextInt(100)))));
                }
                case 3 -> {
                    TextRequestHeader h = TextRequestHeader.create().targetTransferTag(-1).cmdSN(cmdSN++);
                    h.initiatorTaskTag(tag);
                    pdus.add(Pdu.of(h, TextCodec.encode(List.of(new TextParameter("SendTargets", "All")))));
                }
                case 4 -> {
                    TaskManagementRequestHeader h = TaskManagementRequestHeader.create()
                            .function(1 + r.nextInt(TaskManagementFunction.TASK_REASSIGN + 1))
                            .referencedTaskTag(100 + r.nextInt(n)).cmdSN(cmdSN);
                    h.immediate(true);
                    h.initiatorTaskTag(tag);
                    pdus.add(Pdu.of(h));
                }
                case 5 -> {
                    SnackRequestHeader h = SnackRequestHeader.create();
                    h.initiatorTaskTag(tag);
                    pdus.add(Pdu.of(h));
                }
                default -> {
                    LogoutRequestHeader h = LogoutRequestHeader.create().reasonCode(r.nextInt(4)).cid(1).cmdSN(cmdSN++);
                    h.initiatorTaskTag(tag);
                    pdus.add(Pdu.of(h));
                }
            }
        }
        return encode(pdus);
    }

    /** A few random edits: byte overwrites, bit flips, lying length fields, truncation, junk insertion. */
    private static byte[] mutate(final Random r, final byte[] in) {
        byte[] b = in.clone();
        int edits = r.nextInt(6);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(6)) {
                case 0 -> b[at] = (byte) r.nextInt(256);
                case 1 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 2 -> {
                    // a lying DataSegmentLength or TotalAHSLength at a PDU-looking boundary
                    int pdu = (at / 48) * 48;
                    if (pdu + 8 <= b.length) {
                        b[pdu + 4 + r.nextInt(4)] = (byte) r.nextInt(256);
                    }
                }
                case 3 -> b = Arrays.copyOf(b, at);
                case 4 -> {
                    byte[] junk = randomBytes(r, 1 + r.nextInt(64));
                    byte[] out = new byte[b.length + junk.length];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(junk, 0, out, at, junk.length);
                    System.arraycopy(b, at, out, at + junk.length, b.length - at);
                    b = out;
                }
                default -> b[at & ~3] = (byte) r.nextInt(64); // another opcode
            }
        }
        return b;
    }
}
