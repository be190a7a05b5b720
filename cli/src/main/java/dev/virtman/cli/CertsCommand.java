package dev.virtman.cli;

import dev.virtman.block.PrivateFiles;
import dev.virtman.manager.api.TargetNames;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code virtman certs}: a development CA and the certificates a manager ({@code --tls-cert},
 * {@code --tls-key}) and its hosts use, in one directory (0700): {@code ca.pem}/{@code ca.key},
 * {@code server.pem} (leaf then CA) /{@code server.key}, and {@code host-ID.pem}/{@code host-ID.key}
 * per {@code --host}. Private keys are PKCS#8 PEM, created 0600 (never readable by others, even
 * briefly); nothing secret is passed on the command line. EC P-256 keys (what current TLS stacks
 * prefer; generated in milliseconds). A second run reuses the CA in the directory, so hosts can
 * be added later; existing certificates are never overwritten.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "Make a development CA and TLS certificates for the manager and hosts.")
public final class CertsCommand implements Callable<Integer> {

    private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*");
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");
    private static final String SIGNATURE = "SHA256withECDSA";

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", required = true,
            description = "Directory for the CA, certificates and keys (created 0700).")
    Path dir;

    @Option(names = "--server", paramLabel = "NAME[,NAME...]", split = ",",
            description = "Host names or IP addresses the manager is reached at (its certificate names them all).")
    List<String> serverNames = new ArrayList<>();

    @Option(names = "--host", paramLabel = "ID", description = "Also a client certificate for this host id (repeatable).")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--days", paramLabel = "N", description = "Validity of new server and host certificates (default: ${DEFAULT-VALUE}).")
    int days = 825;

    @Override
    public Integer call() throws Exception {
        if (serverNames.isEmpty() && hosts.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "nothing to make: give --server NAME (the manager's certificate) and/or --host ID");
        }
        if (days < 1 || days > 3650) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--days must be 1 to 3650");
        }
        List<GeneralName> names = new ArrayList<>();
        for (String n : serverNames) {
            names.add(generalName(n.strip()));
        }
        for (String h : hosts) {
            if (!TargetNames.HOST_ID.matcher(h).matches()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--host must match "
                        + TargetNames.HOST_ID.pattern() + ", got '" + h + "'");
            }
        }
        PrivateFiles.createDirectories(dir);
        PrintWriter out = spec.commandLine().getOut();
        Ca ca = loadOrCreateCa(out);
        if (!names.isEmpty()) {
            KeyPair key = ecKey();
            X509CertificateHolder leaf = sign(ca, new X500Name("CN=" + serverNames.getFirst().strip()), key, days,
                    KeyPurposeId.id_kp_serverAuth, new GeneralNames(names.toArray(GeneralName[]::new)));
            writeNew("server.key", pem(new JcaPKCS8Generator(key.getPrivate(), null).generate()), true);
            writeNew("server.pem", pem(leaf) + pem(ca.certificate), false);
            out.printf("server certificate %s (for %s), key %s%n", dir.resolve("server.pem"),
                    String.join(", ", serverNames), dir.resolve("server.key"));
        }
        for (String h : hosts) {
            KeyPair key = ecKey();
            X509CertificateHolder leaf = sign(ca, new X500Name("CN=" + h), key, days, KeyPurposeId.id_kp_clientAuth, null);
            writeNew("host-" + h + ".key", pem(new JcaPKCS8Generator(key.getPrivate(), null).generate()), true);
            writeNew("host-" + h + ".pem", pem(leaf) + pem(ca.certificate), false);
            out.printf("host certificate %s, key %s%n", dir.resolve("host-" + h + ".pem"), dir.resolve("host-" + h + ".key"));
        }
        out.printf("clients trust %s (--ca-file)%n", dir.resolve("ca.pem"));
        out.flush();
        return 0;
    }

    private record Ca(X509CertificateHolder certificate, PrivateKey key) { }

    private Ca loadOrCreateCa(final PrintWriter out) throws IOException, GeneralSecurityException {
        Path pem = dir.resolve("ca.pem");
        Path keyFile = dir.resolve("ca.key");
        if (Files.exists(pem) != Files.exists(keyFile)) {
            throw new IOException("only one of " + pem + " and " + keyFile + " exists: restore the other or remove both");
        }
        if (Files.exists(pem)) {
            PrivateFiles.restrict(keyFile);
            try (PEMParser certs = new PEMParser(Files.newBufferedReader(pem));
                 PEMParser keys = new PEMParser(Files.newBufferedReader(keyFile))) {
                Object cert = certs.readObject();
                Object key = keys.readObject();
                PrivateKey privateKey = key instanceof org.bouncycastle.asn1.pkcs.PrivateKeyInfo info
                        ? new JcaPEMKeyConverter().getPrivateKey(info)
                        : key instanceof PEMKeyPair pair ? new JcaPEMKeyConverter().getKeyPair(pair).getPrivate() : null;
                if (!(cert instanceof X509CertificateHolder holder) || privateKey == null) {
                    throw new IOException(pem + " / " + keyFile + " are not a PEM certificate and private key");
                }
                out.printf("using the CA in %s%n", pem);
                return new Ca(holder, privateKey);
            }
        }
        KeyPair key = ecKey();
        X500Name name = new X500Name("CN=VirtMan development CA " + Instant.now().getEpochSecond());
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(300)),
                Date.from(now.plus(Duration.ofDays(3650))), name, key.getPublic());
        X509CertificateHolder cert;
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            cert = b.build(new JcaContentSignerBuilder(SIGNATURE).build(key.getPrivate()));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
        writeNew("ca.key", pem(new JcaPKCS8Generator(key.getPrivate(), null).generate()), true);
        writeNew("ca.pem", pem(cert), false);
        out.printf("new CA %s, key %s (keep it offline: it signs certificates anyone would trust)%n", pem, keyFile);
        return new Ca(cert, key.getPrivate());
    }

    private static X509CertificateHolder sign(final Ca ca, final X500Name subject, final KeyPair key, final int days,
                                              final KeyPurposeId purpose, final GeneralNames altNames)
            throws IOException, GeneralSecurityException {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate.getSubject(), serial(),
                Date.from(now.minusSeconds(300)), Date.from(now.plus(Duration.ofDays(days))), subject, key.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        if (altNames != null) {
            b.addExtension(Extension.subjectAlternativeName, false, altNames);
        }
        try {
            return b.build(new JcaContentSignerBuilder(SIGNATURE).build(ca.key));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private GeneralName generalName(final String name) {
        if (IP_LITERAL.matcher(name).matches()) {
            if (!org.bouncycastle.util.IPAddress.isValid(name)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--server: '" + name
                        + "' is not an IP address");
            }
            return new GeneralName(GeneralName.iPAddress, name);
        }
        if (!DNS_NAME.matcher(name).matches() || name.length() > 253) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--server: '" + name
                    + "' is neither a host name nor an IP address");
        }
        return new GeneralName(GeneralName.dNSName, name);
    }

    /** Writes a file that must not exist yet; a key is created 0600 before any byte goes in. */
    private void writeNew(final String name, final String text, final boolean secret) throws IOException {
        Path file = dir.resolve(name);
        if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(file + " exists; remove it first to make a new one");
        }
        if (secret) {
            Files.createFile(file, PrivateFiles.ownerOnly());
            PrivateFiles.restrict(file);
            Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        } else {
            Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW);
        }
    }

    private static KeyPair ecKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, new SecureRandom()).add(BigInteger.ONE);
    }

    private static String pem(final Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }
}
