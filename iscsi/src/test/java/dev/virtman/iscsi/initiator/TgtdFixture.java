package dev.virtman.iscsi.initiator;

import dev.virtman.testing.FreePorts;
import dev.virtman.testing.TgtdProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real tgtd ({@link TgtdProcess}: its own control port, a free loopback portal, the image as
 * writable LUN 1 behind tgtd's controller at LUN 0) that an initiator test can also hurt: killed
 * and restarted on the same portal with the same target and CHAP accounts, stopped and continued.
 */
final class TgtdFixture implements AutoCloseable {

    static final String TGTD = "/usr/sbin/tgtd";
    static final String TGTADM = "/usr/sbin/tgtadm";
    private static final int SIGNAL_WAIT_SECONDS = 5;

    final String iqn;
    final Path image;
    /** The iSCSI portal port, the same across {@link #restart()}. */
    final int port;
    private final List<Account> accounts = new ArrayList<>();
    private volatile TgtdProcess tgtd;

    private record Account(String user, String password, boolean outgoing) { }

    private TgtdFixture(final String iqn, final Path image, final int port) {
        this.iqn = iqn;
        this.image = image;
        this.port = port;
    }

    static boolean available() {
        return Files.isExecutable(Path.of(TGTD)) && Files.isExecutable(Path.of(TGTADM));
    }

    /** Starts tgtd exporting {@code image} as LUN 1 of {@code iqn}. */
    static TgtdFixture start(final String iqn, final Path image) {
        TgtdFixture f = new TgtdFixture(iqn, image, FreePorts.loopbackPort());
        f.tgtd = TgtdProcess.startOnPort(image, iqn, true, f.port);
        return f;
    }

    /** Adds a CHAP account the initiator must use ({@code outgoing}: the one the target proves itself with). */
    void addAccount(final String user, final String password, final boolean outgoing) {
        Account account = new Account(user, password, outgoing);
        synchronized (accounts) {
            accounts.add(account);
        }
        tgtd.addAccount(user, password, outgoing);
    }

    /** Sets a target-side login key (tgtd offers only its configured values, e.g. HeaderDigest=None). */
    void targetParameter(final String name, final String value) {
        tgtd.targetParameter(name, value);
    }

    String url(final int lun) {
        return "iscsi://127.0.0.1:" + port + "/" + iqn + "/" + lun;
    }

    /** SIGKILL: the connection drops without a FIN from tgtd's side being orderly. */
    void kill() throws InterruptedException {
        TgtdProcess current = tgtd;
        if (current.isAlive()) {
            // A stopped tgtd is continued first, as a crash of a running one is what tests mean.
            signal(current, "CONT");
        }
        current.close();
    }

    /** Starts tgtd again on the same iSCSI port, with the same target, LUN and accounts. */
    void restart() throws InterruptedException {
        kill();
        TgtdProcess next = TgtdProcess.startOnPort(image, iqn, true, port);
        synchronized (accounts) {
            for (Account a : accounts) {
                next.addAccount(a.user(), a.password(), a.outgoing());
            }
        }
        tgtd = next;
    }

    /** SIGSTOP: tgtd stays connected but answers nothing (the kernel still accepts connections). */
    void stop() throws InterruptedException {
        signal(tgtd, "STOP");
    }

    void resume() throws InterruptedException {
        signal(tgtd, "CONT");
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    private static void signal(final TgtdProcess target, final String name) throws InterruptedException {
        if (!target.isAlive()) {
            return;
        }
        try {
            Process p = new ProcessBuilder("kill", "-" + name, Long.toString(target.pid())).start();
            p.waitFor(SIGNAL_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("cannot signal tgtd", e);
        }
    }
}
