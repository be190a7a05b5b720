package dev.virtman.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Connect and login are bounded by a {@link ConnectionDeadline} (a timer that closes the socket),
 * not by socket timeouts, which would leave every session's socket non-blocking: a target that
 * accepts and then never answers still ends the login with "timed out", not a hang.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoginDeadlineTest {
    private static final Duration LOGIN_TIMEOUT = Duration.ofMillis(400);

    @Test
    void aTargetThatNeverAnswersTheLoginTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try (Socket held = silent.accept()) {
                    // holds the connection open and says nothing until the initiator gives up and closes it
                    held.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                } catch (Exception e) {
                    // closed by the test's end
                }
            });
            InitiatorOptions options = InitiatorOptions.defaults().withTimeouts(Duration.ofSeconds(5), LOGIN_TIMEOUT,
                    Duration.ofSeconds(5), Duration.ofSeconds(5));
            long start = System.nanoTime();
            assertThatThrownBy(() -> IscsiSession.open("127.0.0.1", silent.getLocalPort(), "iqn.2026-01.test:silent",
                    options)).isInstanceOf(IscsiException.class).hasMessageContaining("timed out after 400 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(LOGIN_TIMEOUT);
            acceptor.interrupt();
        }
    }
}
