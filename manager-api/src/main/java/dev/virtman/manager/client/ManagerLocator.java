package dev.virtman.manager.client;

import dev.virtman.manager.api.StateDir;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a client finds its manager, token and CA: the command line, then the environment, then
 * a local manager's state directory ({@link ManagerClient#locate(String, Path, Path)}). Never the
 * token from the command line: every local user sees argv in {@code ps}.
 */
final class ManagerLocator {
    /** A cluster has a handful of managers; a list longer than this is a mistake. */
    private static final int MAX_URLS = 16;

    private ManagerLocator() {
    }

    static ManagerClient locate(final String manager, final Path tokenFile, final List<StateDir> search,
                                final java.util.function.UnaryOperator<String> env) {
        return locate(manager, tokenFile, search, env, null);
    }

    /**
     * As {@link ManagerClient#locate(String, Path, Path)}, with the state directories to search (the first
     * holding a {@code manager.url} gives the URL and the token) and the environment given.
     */
    static ManagerClient locate(final String manager, final Path tokenFile, final List<StateDir> search,
                                final java.util.function.UnaryOperator<String> env, final Path caFile) {
        StateDir dir = search.stream().filter(d -> Files.isRegularFile(d.url())).findFirst().orElse(search.getFirst());
        String url = firstNonBlank(manager, env.apply(ManagerClient.ENV_MANAGER));
        if (url == null) {
            try {
                url = Files.readString(dir.url()).strip();
            } catch (IOException e) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "no manager URL: pass --manager URL, set "
                        + ManagerClient.ENV_MANAGER + ", or name the manager's state directory with --state-dir DIR or "
                        + StateDir.ENV + " (no running manager has written "
                        + String.join(" or ", search.stream().map(d -> d.url().toString()).toList()) + ")", e);
            }
        }
        String secret = tokenFrom(tokenFile, dir.token());
        List<URI> uris = parseUrls(url);
        return new ManagerClient(uris, secret, ManagerClient.DEFAULT_REQUEST_TIMEOUT, trust(caFile, env));
    }

    /** {@link ManagerClient#trust}, with the environment given. */
    static javax.net.ssl.SSLContext trust(final Path caFile, final java.util.function.UnaryOperator<String> env) {
        String ca = caFile != null ? caFile.toString() : firstNonBlank(env.apply(ManagerClient.ENV_CA_FILE), null);
        if (ca == null) {
            return null;
        }
        try {
            return CaFiles.context(Path.of(ca));
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "cannot use the CA file " + ca + ": "
                    + e.getMessage(), e);
        }
    }

    /** {@link ManagerClient#parseUrls}. */
    static List<URI> parseUrls(final String urls) {
        List<URI> out = new java.util.ArrayList<>();
        for (String one : urls.split(",", -1)) {
            String url = one.strip();
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "invalid manager URL '" + url + "'", e);
            }
            if (uri.getScheme() == null || uri.getHost() == null
                    || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "invalid manager URL '" + url
                        + "' (expected http://host:port or https://host:port, several separated by commas)", null);
            }
            if (out.size() == MAX_URLS) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "more than " + MAX_URLS
                        + " manager URLs", null);
            }
            out.add(uri);
        }
        return out;
    }

    /** {@link ManagerClient#tokenFrom}. */
    static String tokenFrom(final Path tokenFile, final Path fallbackFile) {
        String envFile = System.getenv(ManagerClient.ENV_TOKEN_FILE);
        Path file = tokenFile != null ? tokenFile : envFile != null && !envFile.isBlank() ? Path.of(envFile) : null;
        String where = tokenFile != null ? "--token-file" : ManagerClient.ENV_TOKEN_FILE;
        if (file == null) {
            String env = System.getenv(ManagerClient.ENV_TOKEN);
            if (env != null && !env.isBlank()) {
                return env.strip();
            }
            if (fallbackFile == null) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "no API token: pass --token-file FILE"
                        + " or set " + ManagerClient.ENV_TOKEN_FILE + " (or " + ManagerClient.ENV_TOKEN + ")", null);
            }
            file = fallbackFile;
            where = "the state directory";
        }
        try {
            return TokenFiles.read(file);
        } catch (IOException e) {
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "no API token from " + where + ": "
                    + e.getMessage() + " (pass --token-file FILE or set " + ManagerClient.ENV_TOKEN_FILE + " or " + ManagerClient.ENV_TOKEN + ")", e);
        }
    }

    private static String firstNonBlank(final String a, final String b) {
        if (a != null && !a.isBlank()) {
            return a;
        }
        return b != null && !b.isBlank() ? b : null;
    }
}
