package dev.virtman.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * A committed list of conformance tests a target is known to fail: one {@code Suite.Test} per
 * line, {@code #} starts a comment (say why the test fails). Checked against a run, it tells new
 * regressions (fail the build) from old debts, and lists the tests that now pass so the list
 * can shrink.
 */
public final class KnownFailures {
    private final String resource;
    private final Set<String> names;

    private KnownFailures(final String resource, final Set<String> names) {
        this.resource = resource;
        this.names = Collections.unmodifiableSet(names);
    }

    /** Loads a list from the test class path; a missing resource is an empty list. */
    public static KnownFailures load(final String resource) {
        Set<String> names = new TreeSet<>();
        try (InputStream in = KnownFailures.class.getClassLoader().getResourceAsStream(resource)) {
            if (in != null) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    int hash = line.indexOf('#');
                    String name = (hash >= 0 ? line.substring(0, hash) : line).strip();
                    if (!name.isEmpty()) {
                        names.add(name);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new KnownFailures(resource, names);
    }

    public String resource() {
        return resource;
    }

    public Set<String> names() {
        return names;
    }

    /** Tests that fail (or did not run) now but are not on the list: regressions. */
    public Set<String> regressions(final Set<String> failedNow) {
        Set<String> fresh = new TreeSet<>(failedNow);
        fresh.removeAll(names);
        return fresh;
    }

    /** Tests on the list that no longer fail: take them off. */
    public Set<String> nowPassing(final Set<String> failedNow) {
        Set<String> fixed = new TreeSet<>(names);
        fixed.removeAll(failedNow);
        return fixed;
    }
}
