package dev.virtman.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Addresses parse without DNS, and whatever binds gets a resolved address (or a clear error). */
class AddressesTest {

    @Test
    void parsedAddressesAreUnresolvedButBindAddressesAreResolved() {
        assertThat(Addresses.parse("127.0.0.1:3260").isUnresolved()).isTrue();
        InetSocketAddress bind = Addresses.resolveListen("127.0.0.1:0");
        assertThat(bind.isUnresolved()).isFalse();
        assertThat(bind.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(Addresses.resolveListen("[::1]:3260").getAddress().getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1");
    }

    @Test
    void anUnresolvableHostIsAClearError() {
        assertThatThrownBy(() -> Addresses.resolveListen("no-such-host.invalid:3260"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no-such-host.invalid");
    }

    /** 1ac25db: binding the unresolved address failed with "null". */
    @Test
    void aTargetServerListensOnAParsedUnresolvedPortal() throws Exception {
        try (IscsiTargetServer server = IscsiTargetServer.start(
                new TargetServerConfig(Addresses.parseListen("127.0.0.1:0"), List.of()))) {
            assertThat(server.localAddress().getPort()).isPositive();
        }
    }
}
