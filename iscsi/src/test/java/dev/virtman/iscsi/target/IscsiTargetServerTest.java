package dev.virtman.iscsi.target;

import dev.virtman.scsi.ScsiCdbs;
import dev.virtman.testing.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.login.TargetLoginSettings;
import dev.virtman.iscsi.pdu.BasicHeaderSegment;
import dev.virtman.iscsi.pdu.DataInHeader;
import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.LogoutRequestHeader;
import dev.virtman.iscsi.pdu.LogoutResponseHeader;
import dev.virtman.iscsi.pdu.NopInHeader;
import dev.virtman.iscsi.pdu.NopOutHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.RejectHeader;
import dev.virtman.iscsi.pdu.RejectReason;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import dev.virtman.iscsi.pdu.TaskManagementFunction;
import dev.virtman.iscsi.pdu.TaskManagementRequestHeader;
import dev.virtman.iscsi.pdu.TaskManagementResponseHeader;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import dev.virtman.iscsi.pdu.TextRequestHeader;
import dev.virtman.scsi.ScsiCommandExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IscsiTargetServerTest {

    @TempDir
    Path dir;

    private static final List<TextParameter> FAST = List.of(
            new TextParameter("InitialR2T", "No"), new TextParameter("ImmediateData", "Yes"),
            new TextParameter("MaxBurstLength", "262144"), new TextParameter("FirstBurstLength", "65536"),
            new TextParameter("MaxOutstandingR2T", "4"));

    private static int statusClassDetail(final Pdu loginResponse) {
        LoginResponseHeader h = new LoginResponseHeader(loginResponse.bhs());
        return h.statusClass() << 8 | h.statusDetail();
    }

    @Test
    void readsDataSplitIntoDataInPdusWithStatusCollapsed() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            Pdu login = i.login(TargetFixture.IQN, List.of(new TextParameter("MaxRecvDataSegmentLength", "16384")));
            assertThat(statusClassDetail(login)).isZero();
            LoginResponseHeader lh = new LoginResponseHeader(login.bhs());
            assertThat(lh.transit()).isTrue();
            assertThat(lh.nextStage()).isEqualTo(3);
            assertThat(lh.tsih()).isNotZero();

            TestInitiator.Result r = i.read(0, ScsiCdbs.read10(100, 2048), 2048 * 512);

            assertThat(r.status()).isZero();
            assertThat(r.response()).isNull(); // status came in the last Data-In (S bit)
            assertThat(r.dataInPdus()).isEqualTo((1 << 20) / 16384);
            assertThat(r.data().array()).isEqualTo(Arrays.copyOfRange(f.content, 100 * 512, 100 * 512 + (1 << 20)));
        }
    }

    @Test
    void reportsResidualOverflowWhenExpectedLengthIsShort() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            TestInitiator.Result r = i.read(0, ScsiCdbs.read10(0, 8), 1000);
            assertThat(r.status()).isZero();
            assertThat(r.data().remaining()).isEqualTo(1000);
            assertThat(r.lastDataIn().residualOverflow()).isTrue();
            assertThat(r.residualCount()).isEqualTo(8 * 512 - 1000);
        }
    }

    @Test
    void writesWithImmediateUnsolicitedAndSolicitedDataThenReadsBack() throws IOException {
        for (boolean digests : new boolean[] {false, true}) {
            try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
                List<TextParameter> keys = new java.util.ArrayList<>(FAST);
                keys.add(new TextParameter("HeaderDigest", digests ? "CRC32C,None" : "None"));
                keys.add(new TextParameter("DataDigest", digests ? "CRC32C,None" : "None"));
                Pdu login = i.login(TargetFixture.IQN, keys);
                assertThat(statusClassDetail(login)).isZero();
                assertThat(TestInitiator.keys(login)).containsEntry("HeaderDigest", digests ? "CRC32C" : "None");
                byte[] data = new byte[1 << 20];
                new java.util.Random(digests ? 1 : 2).nextBytes(data);

                TestInitiator.Result w = i.write(0, ScsiCdbs.write10(64, 2048), ByteBuffer.wrap(data));
                TestInitiator.Result r = i.read(0, ScsiCdbs.read10(64, 2048), 1 << 20);

                assertThat(w.status()).isZero();
                assertThat(r.data().array()).isEqualTo(data);
                assertThat(f.server.availableBudgetBytes()).isEqualTo(TargetTuning.DEFAULTS.inFlightBudgetBytes());
            }
        }
    }

    @Test
    void writeWithInitialR2TYesUsesOnlyR2Ts() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of(new TextParameter("InitialR2T", "Yes"),
                    new TextParameter("ImmediateData", "No")));
            byte[] data = new byte[300_000];
            new java.util.Random(3).nextBytes(data);
            assertThat(i.write(0, ScsiCdbs.write10(0, 300_000 / 512), ByteBuffer.wrap(data, 0, 300_000 / 512 * 512))
                    .status()).isZero();
            assertThat(i.read(0, ScsiCdbs.read10(0, 300_000 / 512), 300_000 / 512 * 512).data().array())
                    .isEqualTo(Arrays.copyOf(data, 300_000 / 512 * 512));
        }
    }

    @Test
    void discoveryReturnsTargetAndPortal() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            assertThat(statusClassDetail(i.login(null, List.of()))).isZero();
            TextRequestHeader t = TextRequestHeader.create().targetTransferTag(-1).cmdSN(i.cmdSN++).expStatSN(i.expStatSN);
            t.initiatorTaskTag(99);
            i.send(Pdu.of(t, TextCodec.encode(List.of(new TextParameter("SendTargets", "All")))));
            Pdu resp = i.receive();
            assertThat(resp.opcode()).isEqualTo(Opcode.TEXT_RESPONSE);
            assertThat(resp.header().finalFlag()).isTrue();
            Map<String, String> keys = TestInitiator.keys(resp);
            assertThat(keys).containsEntry("TargetName", TargetFixture.IQN)
                    .containsEntry("TargetAddress", "127.0.0.1:" + f.address().getPort() + ",1");
        }
    }

    /**
     * open-iscsi logs in to the address discovery names: behind a port forward (a QEMU guest
     * reaching the host's loopback as 10.0.2.2) the bound 127.0.0.1 is unreachable for it, so an
     * operator-given address replaces it.
     */
    @Test
    void discoveryNamesTheAdvertisedPortalWhenOneIsConfigured() throws IOException {
        InetSocketAddress advertised = new InetSocketAddress("10.0.2.2", 40123);
        try (TargetFixture f = TargetFixture.start(dir, null, Set.of(), TargetTuning.DEFAULTS, null, advertised);
             TestInitiator i = f.connect()) {
            assertThat(statusClassDetail(i.login(null, List.of()))).isZero();
            TextRequestHeader t = TextRequestHeader.create().targetTransferTag(-1).cmdSN(i.cmdSN++).expStatSN(i.expStatSN);
            t.initiatorTaskTag(98);
            i.send(Pdu.of(t, TextCodec.encode(List.of(new TextParameter("SendTargets", "All")))));
            Map<String, String> keys = TestInitiator.keys(i.receive());
            assertThat(keys).containsEntry("TargetName", TargetFixture.IQN)
                    .containsEntry("TargetAddress", "10.0.2.2:40123,1");
        }
    }

    @Test
    void anAdvertisedPortalMustBeConcrete() {
        assertThatThrownBy(() -> new TargetServerConfig(new InetSocketAddress("127.0.0.1", 0), List.of())
                .withAdvertisedPortal(new InetSocketAddress("0.0.0.0", 3260)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("concrete");
        assertThatThrownBy(() -> new TargetServerConfig(new InetSocketAddress("127.0.0.1", 0), List.of())
                .withAdvertisedPortal(new InetSocketAddress("10.0.2.2", 0)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void loginFailuresAreClassTwoAndClose() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir, null, Set.of("iqn.2026-11.other:only"), TargetTuning.DEFAULTS, null)) {
            try (TestInitiator i = f.connect()) {
                assertThat(statusClassDetail(i.login("iqn.2026-11.dev.virtman:nope", List.of()))).isEqualTo(0x0203);
                assertThat(i.closedByTarget()).isTrue();
            }
            try (TestInitiator i = f.connect()) {
                assertThat(statusClassDetail(i.login(TargetFixture.IQN, List.of()))).isEqualTo(0x0202);
                assertThat(i.closedByTarget()).isTrue();
            }
            try (TestInitiator i = f.connect()) {
                Pdu r = i.loginStep(0, 1, true, List.of(new TextParameter("TargetName", TargetFixture.IQN)));
                assertThat(statusClassDetail(r)).isEqualTo(0x0207); // no InitiatorName
            }
        }
    }

    @Test
    void chapOneWayAndMutual() throws IOException {
        ChapConfig chap = new ChapConfig("alice", "alice-secret-123", "target-bob", "bob-secret-4567");
        try (TargetFixture f = TargetFixture.start(dir, chap, Set.of(), TargetTuning.DEFAULTS, null)) {
            try (TestInitiator i = f.connect()) {
                assertThat(statusClassDetail(i.loginChap(TargetFixture.IQN, "alice", "alice-secret-123", null))).isZero();
                assertThat(i.read(0, ScsiCdbs.read10(0, 1), 512).status()).isZero();
            }
            try (TestInitiator i = f.connect()) {
                assertThat(statusClassDetail(i.loginChap(TargetFixture.IQN, "alice", "alice-secret-123",
                        "bob-secret-4567"))).isZero();
            }
            try (TestInitiator i = f.connect()) {
                assertThat(statusClassDetail(i.loginChap(TargetFixture.IQN, "alice", "wrong-secret-000", null)))
                        .isEqualTo(0x0201);
                assertThat(i.closedByTarget()).isTrue();
            }
            try (TestInitiator i = f.connect()) {
                // AuthMethod=None only, but the target requires CHAP
                assertThat(statusClassDetail(i.login(TargetFixture.IQN, List.of()))).isEqualTo(0x0201);
            }
        }
    }

    @Test
    void nopOutIsAnsweredWithItsData() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            NopOutHeader nop = NopOutHeader.create().targetTransferTag(-1).cmdSN(i.cmdSN).expStatSN(i.expStatSN);
            nop.immediate(true);
            nop.initiatorTaskTag(1234);
            i.send(Pdu.of(nop, ByteBuffer.wrap("ping".getBytes())));
            Pdu in = i.receive();
            assertThat(in.opcode()).isEqualTo(Opcode.NOP_IN);
            assertThat(in.header().initiatorTaskTag()).isEqualTo(1234);
            assertThat(new NopInHeader(in.bhs()).targetTransferTag()).isEqualTo(-1);
            assertThat(new String(in.data().array(), in.data().position(), in.data().remaining())).isEqualTo("ping");
        }
    }

    @Test
    void commandsOutsideTheCmdSnWindowAreDroppedSilently() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            int exp = i.cmdSN;
            ScsiCommandHeader tooHigh = i.command(0, ScsiCdbs.testUnitReady(), 0, false, false).cmdSN(i.maxCmdSN + 1);
            ScsiCommandHeader tooLow = i.command(0, ScsiCdbs.testUnitReady(), 0, false, false).cmdSN(exp - 1);
            i.send(Pdu.of(tooHigh));
            i.send(Pdu.of(tooLow));
            i.cmdSN = exp;
            TestInitiator.Result r = i.read(0, ScsiCdbs.inquiry(-1, 36), 36);
            assertThat(r.status()).isZero(); // the first thing answered is the in-window command
            assertThat(r.lastDataIn().initiatorTaskTag()).isEqualTo(i.nextTag - 1);
        }
    }

    @Test
    void commandAheadOfExpCmdSnWaitsForTheGap() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            ScsiCommandHeader first = i.command(0, ScsiCdbs.testUnitReady(), 0, false, false);
            ScsiCommandHeader second = i.command(0, ScsiCdbs.testUnitReady(), 0, false, false);
            i.send(Pdu.of(second));
            i.send(Pdu.of(first));
            Pdu a = i.receive();
            Pdu b = i.receive();
            assertThat(List.of(a.header().initiatorTaskTag(), b.header().initiatorTaskTag()))
                    .containsExactlyInAnyOrder(first.initiatorTaskTag(), second.initiatorTaskTag());
        }
    }

    @Test
    void undefinedOpcodeIsRejectedAndSessionGoesOn() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            ByteBuffer bogus = ByteBuffer.allocate(BasicHeaderSegment.LENGTH);
            bogus.put(0, (byte) 0x1c); // vendor-specific initiator opcode
            bogus.putInt(16, 77);
            i.send(new Pdu(bogus, null, null));
            Pdu reject = i.receive();
            assertThat(reject.opcode()).isEqualTo(Opcode.REJECT);
            assertThat(new RejectHeader(reject.bhs()).reason()).isEqualTo(RejectReason.COMMAND_NOT_SUPPORTED);
            assertThat(reject.data().getInt(reject.data().position() + 16)).isEqualTo(77);
            assertThat(i.read(0, ScsiCdbs.read10(0, 1), 512).status()).isZero();
        }
    }

    @Test
    void oversizedDataSegmentIsRejectedAndConnectionClosed() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            ByteBuffer bhs = i.command(0, ScsiCdbs.write10(0, 1), 512, false, true).buffer();
            bhs.put(5, (byte) 0x7f); // DataSegmentLength ~ 8 MiB, beyond the declared 256 KiB
            i.sendRaw(bhs.duplicate());
            Pdu reject = i.receive();
            assertThat(reject.opcode()).isEqualTo(Opcode.REJECT);
            assertThat(i.closedByTarget()).isTrue();
        }
        // the server is unharmed
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            assertThat(i.read(0, ScsiCdbs.read10(0, 1), 512).status()).isZero();
        }
    }

    @Test
    void abortTaskStopsABlockedCommandWithoutItsResponse() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        ScsiCommandExecutorWrapper wrap = inner -> command -> {
            if ((command.cdb().get(0) & 0xff) == 0x28) {
                entered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return inner.execute(command);
        };
        try (TargetFixture f = TargetFixture.start(dir, null, Set.of(), TargetTuning.DEFAULTS, wrap::wrap);
             TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            ScsiCommandHeader read = i.command(0, ScsiCdbs.read10(0, 1), 512, true, false);
            i.send(Pdu.of(read));
            assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
            TaskManagementRequestHeader tmf = TaskManagementRequestHeader.create()
                    .function(TaskManagementFunction.ABORT_TASK).referencedTaskTag(read.initiatorTaskTag())
                    .refCmdSN(read.cmdSN()).cmdSN(i.cmdSN).expStatSN(i.expStatSN);
            tmf.immediate(true);
            tmf.lun(0);
            tmf.initiatorTaskTag(i.nextTag++);
            i.send(Pdu.of(tmf));
            // Release the READ only once the target has taken the ABORT TASK, so its response must
            // be suppressed rather than racing ahead of the abort.
            Await.until(() -> f.registry.counter("virtman.iscsi.target.tasks.aborted").count() >= 1,
                    "the target took the ABORT TASK");
            release.countDown();
            Pdu resp = i.receive();
            assertThat(resp.opcode()).isEqualTo(Opcode.TASK_MANAGEMENT_RESPONSE);
            assertThat(new TaskManagementResponseHeader(resp.bhs()).response())
                    .isEqualTo(TaskManagementFunction.RESPONSE_COMPLETE);
            // the aborted READ never answers; the next command does
            TestInitiator.Result r = i.read(0, ScsiCdbs.read10(1, 1), 512);
            assertThat(r.lastDataIn().initiatorTaskTag()).isEqualTo(i.nextTag - 1);
        }
    }

    /** Lets a test wrap the real executor (to block or observe commands). */
    interface ScsiCommandExecutorWrapper {
        ScsiCommandExecutor wrap(ScsiCommandExecutor inner);
    }

    @Test
    void logoutClosesTheSession() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir); TestInitiator i = f.connect()) {
            i.login(TargetFixture.IQN, List.of());
            LogoutRequestHeader logout = LogoutRequestHeader.create().reasonCode(LogoutRequestHeader.REASON_CLOSE_SESSION)
                    .cid(1).cmdSN(i.cmdSN++).expStatSN(i.expStatSN);
            logout.initiatorTaskTag(i.nextTag++);
            logout.immediate(true);
            i.send(Pdu.of(logout));
            Pdu resp = i.receive();
            assertThat(resp.opcode()).isEqualTo(Opcode.LOGOUT_RESPONSE);
            assertThat(new LogoutResponseHeader(resp.bhs()).response()).isEqualTo(LogoutResponseHeader.RESPONSE_CLOSED);
            assertThat(i.closedByTarget()).isTrue();
        }
    }

    @Test
    void idleConnectionIsPingedThenClosedWhenSilent() throws Exception {
        TargetTuning tuning = TargetTuning.DEFAULTS.withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(1),
                Duration.ofSeconds(2));
        try (TargetFixture f = TargetFixture.start(dir, null, Set.of(), tuning, null)) {
            try (TestInitiator i = f.connect()) {
                i.login(TargetFixture.IQN, List.of());
                Pdu ping = i.receive();
                assertThat(ping.opcode()).isEqualTo(Opcode.NOP_IN);
                assertThat(ping.header().initiatorTaskTag()).isEqualTo(-1);
                int ttt = new NopInHeader(ping.bhs()).targetTransferTag();
                assertThat(ttt).isNotEqualTo(-1);
                // answer it: the connection stays
                NopOutHeader answer = NopOutHeader.create().targetTransferTag(ttt).cmdSN(i.cmdSN).expStatSN(i.expStatSN);
                answer.immediate(true);
                answer.initiatorTaskTag(-1);
                i.send(Pdu.of(answer));
                assertThat(i.read(0, ScsiCdbs.read10(0, 1), 512).status()).isZero();
                // now stay silent: pinged again, then closed
                assertThat(i.closedByTarget()).isTrue();
            }
            try (TestInitiator silent = f.connect()) {
                // never logs in: closed by the login timeout
                assertThat(silent.closedByTarget()).isTrue();
            }
        }
    }

    @Test
    void negotiatesDeclaredAndMinimumValues() throws IOException {
        TargetTuning tuning = TargetTuning.DEFAULTS.withLogin(
                new TargetLoginSettings(131072, 524288, 65536, false, true, 8, 1, "disk-alias"));
        try (TargetFixture f = TargetFixture.start(dir, null, Set.of(), tuning, null); TestInitiator i = f.connect()) {
            Pdu r = i.login(TargetFixture.IQN, List.of(
                    new TextParameter("MaxBurstLength", "1048576"), new TextParameter("FirstBurstLength", "262144"),
                    new TextParameter("InitialR2T", "Yes"), new TextParameter("ImmediateData", "No"),
                    new TextParameter("MaxConnections", "4"), new TextParameter("ErrorRecoveryLevel", "2"),
                    new TextParameter("X-com.example.Foo", "bar"), new TextParameter("DefaultTime2Wait", "bogus")));
            Map<String, String> k = TestInitiator.keys(r);
            assertThat(k).containsEntry("MaxBurstLength", "524288")
                    .containsEntry("FirstBurstLength", "Irrelevant")
                    .containsEntry("InitialR2T", "Yes")
                    .containsEntry("ImmediateData", "No")
                    .containsEntry("MaxConnections", "1")
                    .containsEntry("ErrorRecoveryLevel", "0")
                    .containsEntry("X-com.example.Foo", "NotUnderstood")
                    .containsEntry("DefaultTime2Wait", "Reject")
                    .containsEntry("MaxRecvDataSegmentLength", "131072");
        }
    }
}
