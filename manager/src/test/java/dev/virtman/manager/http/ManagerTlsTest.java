package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.client.AgentSession;
import dev.virtman.manager.client.CaFiles;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.FileModes;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tls-cert/--tls-key}: the manager serves HTTPS and {@code wss://} agent streams with a
 * certificate chain and key from PEM files; a client trusting the CA ({@code --ca-file},
 * {@link CaFiles}) gets answers and an agent stream; a client with only the JVM's public CAs is
 * refused during the handshake, as is a CA file that is not one. EC P-256 keys (generated in
 * milliseconds, unlike RSA), one manager for the class's one test: fast and nothing timed.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ManagerTlsTest {

    @TempDir
    Path tmp;

    private ManagerServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void httpsAndWssWithTheCaFileAndARefusalWithout() throws Exception {
        KeyPair caKey = ecKey();
        X509CertificateHolder ca = certificate(new X500Name("CN=virtman test CA"), caKey, new X500Name("CN=virtman test CA"),
                caKey, true);
        KeyPair serverKey = ecKey();
        X509CertificateHolder leaf = certificate(new X500Name("CN=virtman test CA"), caKey, new X500Name("CN=manager"),
                serverKey, false);
        Path caFile = Files.writeString(tmp.resolve("ca.pem"), pem(ca));
        Path certFile = Files.writeString(tmp.resolve("manager.pem"), pem(leaf) + pem(ca));
        Path keyFile = FileModes.writePrivate(tmp.resolve("manager.key"), pem(new JcaPKCS8Generator(serverKey.getPrivate(),
                null).generate()));

        server = ManagerServer.start(ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(2, 2, 8)),
                ServerSettings.DEFAULT.withTls(certFile, keyFile));
        URI url = server.url();
        assertThat(url.getScheme()).isEqualTo("https");

        ManagerClient trusting = new ManagerClient(url, server.token(), Duration.ofSeconds(30), CaFiles.context(caFile));
        assertThat(trusting.images()).isEmpty();
        trusting.registerHost("h1", "127.0.0.2:3260", null);

        // The agent stream over wss://, on the same port and certificate.
        CompletableFuture<HeartbeatReply> reply = new CompletableFuture<>();
        try (AgentSession session = new AgentSession(trusting, "h1", reply::complete, Duration.ofSeconds(30),
                Duration.ofSeconds(10), null)) {
            session.tick(new HeartbeatRequest(null, Map.of(), null, null));
            assertThat(reply.get(30, TimeUnit.SECONDS).hostId()).isEqualTo("h1");
        }

        // The JVM's public CAs do not vouch for this manager: refused in the handshake.
        ManagerClient untrusting = new ManagerClient(url, server.token(), Duration.ofSeconds(30));
        assertThatThrownBy(untrusting::images).isInstanceOf(ManagerClientException.class)
                .hasMessageContaining("cannot reach the manager at " + url);
        // A CA file with no certificate is a clear error, not an empty trust store.
        Path notCa = Files.writeString(tmp.resolve("empty.pem"), "not a certificate\n");
        assertThatThrownBy(() -> ManagerClient.locate(url.toString(), server.tokenFile(), null, notCa))
                .isInstanceOf(ManagerClientException.class).hasMessageContaining("cannot use the CA file " + notCa);
        // Through locate, as the CLI's --ca-file does.
        assertThat(ManagerClient.locate(url.toString(), server.tokenFile(), null, caFile).hosts()).hasSize(1);
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509CertificateHolder certificate(final X500Name issuer, final KeyPair issuerKey, final X500Name subject,
                                                     final KeyPair subjectKey, final boolean ca) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(3600)), Date.from(now.plus(Duration.ofDays(1))), subject,
                subjectKey.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (!ca) {
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        }
        return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate()));
    }

    private static String pem(final Object o) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }
}
