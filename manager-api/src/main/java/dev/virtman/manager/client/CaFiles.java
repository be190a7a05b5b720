package dev.virtman.manager.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The trust of a client of an {@code https://} manager: exactly the CA certificates of one PEM
 * file ({@code --ca-file}, {@code $VIRTMAN_CA_FILE}), e.g. the CA {@code virtman certs} made,
 * instead of the JVM's public CAs. Host names are checked as usual (the server certificate must
 * name the host or IP of the manager URL).
 */
public final class CaFiles {

    /** A CA file is a few certificates; anything much larger is not one. */
    private static final long MAX_BYTES = 1 << 20;

    private CaFiles() {
    }

    /** A TLS context trusting the certificates in {@code caFile} and nothing else. */
    public static SSLContext context(final Path caFile) throws IOException, GeneralSecurityException {
        if (Files.size(caFile) > MAX_BYTES) {
            throw new IOException(caFile + " is over " + MAX_BYTES + " bytes: not a CA certificate file");
        }
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(caFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new IOException(caFile + " holds no PEM certificate");
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int i = 0;
        for (Certificate c : certificates) {
            trust.setCertificateEntry("ca" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
