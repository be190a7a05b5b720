package dev.virtman.bench.storm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.overlay.EmptyBase;
import dev.virtman.iscsi.initiator.IscsiException;
import dev.virtman.iscsi.initiator.IscsiLoginException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PatientLoginTest {
    private final List<IOException> retried = new ArrayList<>();
    private final AtomicInteger attempts = new AtomicInteger();

    @Test
    void aTimedOutLoginIsTriedAgainUntilItSucceeds() throws Exception {
        BlockDevice disk = EmptyBase.INSTANCE;
        BlockDevice opened = PatientLogin.open(() -> {
            if (attempts.incrementAndGet() < 3) {
                throw new IscsiException("login to x timed out after 10000 ms");
            }
            return disk;
        }, retried::add, Duration.ZERO);
        assertThat(opened).isSameAs(disk);
        assertThat(attempts).hasValue(3);
        assertThat(retried).hasSize(2);
    }

    @Test
    void aTargetErrorIsTriedAgainButARefusalForCauseIsNot() throws Exception {
        PatientLogin.open(() -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IscsiLoginException("login", IscsiLoginException.CLASS_TARGET_ERROR, 0x02);
            }
            return EmptyBase.INSTANCE;
        }, retried::add, Duration.ZERO);
        assertThat(retried).hasSize(1);

        attempts.set(0);
        assertThatThrownBy(() -> PatientLogin.open(() -> {
            attempts.incrementAndGet();
            throw new IscsiLoginException("login", IscsiLoginException.CLASS_INITIATOR_ERROR, 0x02);
        }, retried::add, Duration.ZERO)).hasMessageContaining("not authorized");
        assertThat(attempts).hasValue(1);
    }

    @Test
    void givesUpAfterAsManyAttemptsAsOpenIscsi() {
        assertThatThrownBy(() -> PatientLogin.open(() -> {
            attempts.incrementAndGet();
            throw new IscsiException("connect to x:3260 timed out after 5000 ms");
        }, retried::add, Duration.ZERO)).hasMessageContaining("timed out");
        assertThat(attempts).hasValue(PatientLogin.ATTEMPTS);
        assertThat(retried).hasSize(PatientLogin.ATTEMPTS - 1);
    }
}
