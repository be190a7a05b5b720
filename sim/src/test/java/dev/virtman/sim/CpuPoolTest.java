package dev.virtman.sim;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class CpuPoolTest {

    @Test
    void workGoesToTheCoreFreeFirstInArrivalOrder() {
        CpuPool cpu = new CpuPool(2);
        assertThat(cpu.run(0, 1.0)).isCloseTo(1.0, within(1e-12)); // core 0
        assertThat(cpu.run(0, 2.0)).isCloseTo(2.0, within(1e-12)); // core 1
        assertThat(cpu.run(0, 1.0)).isCloseTo(2.0, within(1e-12)); // core 0 again, free at 1
        assertThat(cpu.run(5, 0.5)).isCloseTo(5.5, within(1e-12)); // both idle by then
        assertThat(cpu.busySeconds()).isCloseTo(4.5, within(1e-12));
    }

    @Test
    void aPoolNeedsACore() {
        assertThatThrownBy(() -> new CpuPool(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
