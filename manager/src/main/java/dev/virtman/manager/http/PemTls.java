package dev.virtman.manager.http;

import dev.virtman.manager.tls.PemFiles;
import java.io.IOException;
import java.nio.file.Path;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/** Jetty's TLS settings from PEM files ({@code --tls-cert}, {@code --tls-key}). */
final class PemTls {

    private PemTls() { }

    static SslContextFactory.Server serverContext(final Path certificate, final Path key) throws IOException {
        SslContextFactory.Server factory = new SslContextFactory.Server();
        factory.setSslContext(PemFiles.serverContext(certificate, key));
        factory.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        return factory;
    }
}
