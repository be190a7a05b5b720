package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code virtman certs}: keys 0600 in a 0700 directory, certificates that chain to the CA with
 * the names asked for, a second run that adds a host with the same CA and overwrites nothing,
 * and bad names refused. (The certificates in use by a manager: {@code ManagerTlsTest} and the
 * documented {@code tls} sequence.)
 */
class CertsCommandTest {

    @TempDir
    Path tmp;

    @Test
    void makesACaServerAndHostCertificatesWithPrivateKeys() throws Exception {
        Path dir = tmp.resolve("tls");
        assertThat(run("certs", "--dir", dir.toString(), "--server", "127.0.0.1,manager.example.org", "--host", "node1"))
                .isZero();
        assertThat(mode(dir)).isEqualTo("rwx------");
        for (String key : List.of("ca.key", "server.key", "host-node1.key")) {
            assertThat(mode(dir.resolve(key))).as(key).isEqualTo("rw-------");
            assertThat(Files.readString(dir.resolve(key))).startsWith("-----BEGIN PRIVATE KEY-----");
        }
        X509Certificate ca = certificates(dir.resolve("ca.pem")).getFirst();
        List<X509Certificate> server = certificates(dir.resolve("server.pem"));
        assertThat(server).hasSize(2);
        assertThat(server.get(1)).isEqualTo(ca);
        validate(server.getFirst(), ca);
        List<String> names = server.getFirst().getSubjectAlternativeNames().stream()
                .map(n -> String.valueOf(n.get(1))).toList();
        assertThat(names).containsExactlyInAnyOrder("127.0.0.1", "manager.example.org");
        assertThat(server.getFirst().getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1"); // serverAuth
        validate(certificates(dir.resolve("host-node1.pem")).getFirst(), ca);

        // Later: one more host, same CA; nothing that exists is overwritten.
        String serverBefore = Files.readString(dir.resolve("server.pem"));
        assertThat(run("certs", "--dir", dir.toString(), "--host", "node2")).isZero();
        validate(certificates(dir.resolve("host-node2.pem")).getFirst(), ca);
        assertThat(run("certs", "--dir", dir.toString(), "--server", "127.0.0.1")).isEqualTo(1);
        assertThat(Files.readString(dir.resolve("server.pem"))).isEqualTo(serverBefore);
    }

    @Test
    void refusesBadNamesAndNothingToDo() {
        Path dir = tmp.resolve("tls");
        assertThat(run("certs", "--dir", dir.toString())).isEqualTo(2);
        assertThat(run("certs", "--dir", dir.toString(), "--server", "bad name")).isEqualTo(2);
        assertThat(run("certs", "--dir", dir.toString(), "--server", "999.1.1.1")).isEqualTo(2);
        assertThat(run("certs", "--dir", dir.toString(), "--host", "Not/A/Host")).isEqualTo(2);
        assertThat(dir).doesNotExist();
    }

    private static void validate(final X509Certificate leaf, final X509Certificate ca) throws Exception {
        CertificateFactory f = CertificateFactory.getInstance("X.509");
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(f.generateCertPath(List.of(leaf)), params);
    }

    @SuppressWarnings("unchecked")
    private static List<X509Certificate> certificates(final Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return List.copyOf((java.util.Collection<X509Certificate>) CertificateFactory.getInstance("X.509")
                    .generateCertificates(in));
        }
    }

    private static String mode(final Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static int run(final String... args) {
        CommandLine cl = new CommandLine(new VirtmanCommand());
        cl.setErr(new PrintWriter(new StringWriter()));
        cl.setOut(new PrintWriter(new StringWriter()));
        return cl.execute(args);
    }
}
