package dev.virtman.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IscsiUrlTest {

    @Test
    void parsesTheFullQemuSyntax() {
        IscsiUrl u = IscsiUrl.parse("iscsi://alice%s3cret@10.0.0.5:3261/iqn.2026-11.dev.virtman:img/1");
        assertThat(u).isEqualTo(new IscsiUrl("10.0.0.5", 3261, "iqn.2026-11.dev.virtman:img", 1, "alice", "s3cret"));
        assertThat(u.hasCredentials()).isTrue();
        assertThat(u.toString()).doesNotContain("s3cret").isEqualTo("iscsi://alice@10.0.0.5:3261/iqn.2026-11.dev.virtman:img/1");
    }

    @Test
    void defaultsThePortAndAllowsNoCredentials() {
        IscsiUrl u = IscsiUrl.parse("iscsi://host.example/iqn.2001-04.com.example:storage/0");
        assertThat(u.port()).isEqualTo(IscsiUrl.DEFAULT_PORT);
        assertThat(u.user()).isNull();
        assertThat(u.password()).isNull();
        assertThat(u.lun()).isZero();
    }

    @Test
    void acceptsBracketedIpv6AndUserWithoutPassword() {
        IscsiUrl u = IscsiUrl.parse("ISCSI://bob@[::1]:3300/eui.02004567A425678D/16383");
        assertThat(u.host()).isEqualTo("::1");
        assertThat(u.port()).isEqualTo(3300);
        assertThat(u.user()).isEqualTo("bob");
        assertThat(u.password()).isNull();
        assertThat(u.lun()).isEqualTo(16383);
        assertThat(u.toString()).isEqualTo("iscsi://bob@[::1]:3300/eui.02004567A425678D/16383");
    }

    @Test
    void passwordMayContainAtSign() {
        IscsiUrl u = IscsiUrl.parse("iscsi://u%p@ss@h/iqn.x:y/2");
        assertThat(u.user()).isEqualTo("u");
        assertThat(u.password()).isEqualTo("p@ss");
        assertThat(u.host()).isEqualTo("h");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "http://h/iqn.a:b/1|must start with iscsi://",
        "iscsi://h|missing /target-iqn/lun",
        "iscsi://h/iqn.a:b|missing /lun",
        "iscsi://h/iqn.a:b/|empty LUN",
        "iscsi://h/iqn.a:b/x|not a decimal number",
        "iscsi://h/iqn.a:b/-1|not a decimal number",
        "iscsi://h/iqn.a:b/16384|larger than 16383",
        "iscsi://h/iqn.a:b/99999999999999|bad LUN",
        "iscsi://h:0/iqn.a:b/1|port 0",
        "iscsi://h:65536/iqn.a:b/1|larger than 65535",
        "iscsi://h:abc/iqn.a:b/1|not a decimal number",
        "iscsi://:3260/iqn.a:b/1|missing host",
        "iscsi://h//1|empty target name",
        "iscsi://h/target/1|not an iqn., eui. or naa. name",
        "iscsi://h/iqn.a/b/1|contains '/'",
        "iscsi://::1/iqn.a:b/1|IPv6 addresses must be written in brackets",
        "iscsi://[::1/iqn.a:b/1|unterminated IPv6",
        "iscsi://@h/iqn.a:b/1|empty user",
        "iscsi://u%@h/iqn.a:b/1|empty password",
    })
    void rejectsMalformedUrlsClearly(final String url, final String why) {
        assertThatThrownBy(() -> IscsiUrl.parse(url))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(why)
                .hasMessageContaining("expected iscsi://");
    }

    @Test
    void errorsNeverEchoThePassword() {
        assertThatThrownBy(() -> IscsiUrl.parse("iscsi://alice%topsecret@h/iqn.a:b/notalun"))
                .hasMessageNotContaining("topsecret");
    }
}
