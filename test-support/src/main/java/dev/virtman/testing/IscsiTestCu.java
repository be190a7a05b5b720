package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * libiscsi's SCSI/iSCSI conformance suite, {@code iscsi-test-cu} (Debian package libiscsi-bin),
 * run against one LUN. It writes its CUnit report ({@code CUnitAutomated-Results.xml}) into its
 * working directory; the text it prints ([FAILED]/[SKIPPED] reasons) is kept next to it as
 * {@code iscsi-test-cu.out} for whoever has to read why a test failed.
 */
public final class IscsiTestCu {
    private static final String RESULTS_FILE = "CUnitAutomated-Results.xml";
    private static final String OUTPUT_FILE = "iscsi-test-cu.out";
    private static final String TEST_LIST_FILE = "tests.txt";
    private static final Duration LIST_TIMEOUT = Duration.ofSeconds(30);

    private IscsiTestCu() {
    }

    /**
     * One finished (or killed) run.
     *
     * @param expected every test the suite runs ({@code --list}), {@code FAMILY.Suite.Test}
     * @param results  the outcomes it reported
     * @param command  the process run, with its exit status and whether it timed out
     * @param workDir  where the report and the text output are
     */
    public record Run(List<String> expected, CunitResults results, Commands.Result command, Path workDir) {

        public int total() {
            return expected.size();
        }

        public int passed() {
            return results.passed().size();
        }

        /** Tests that failed, plus tests the run never reached (a crash or a timeout). */
        public Set<String> failedOrNotRun() {
            Set<String> bad = new TreeSet<>(results.failed());
            bad.addAll(results.notRun(expected));
            return bad;
        }

        public String summary() {
            return passed() + "/" + total() + " passed, " + results.failed().size() + " failed, "
                    + results.notRun(expected).size() + " not run"
                    + (command.timedOut() ? " (killed after " + command.elapsed() + ")" : "")
                    + " in " + command.elapsed().toSeconds() + " s";
        }
    }

    /** {@code iscsi-test-cu --list}: every family, suite and test, in run order. */
    public static String listing() {
        return Commands.run(LIST_TIMEOUT, "iscsi-test-cu", "--list").requireSuccess().output();
    }

    /**
     * Runs the whole suite against {@code url} (an {@code iscsi://host:port/iqn/lun} URL).
     * {@code dataloss} allows the tests that write to the LUN. A run that overruns
     * {@code timeout} is killed; the tests it finished still count.
     */
    public static Run run(final String url, final boolean dataloss, final Path workDir, final Duration timeout) {
        return run(url, dataloss, workDir, timeout, listing(), List.of());
    }

    /**
     * Runs only {@code suites} ({@code FAMILY.Suite} names), in listing order, as one process: the
     * suite reads them from a test-list file in {@code workDir} (its {@code --test} takes a file
     * name as well as a pattern; a file keeps the listing's order, which the report's suite names
     * are matched against).
     */
    public static Run runSuites(final String url, final boolean dataloss, final Path workDir, final Duration timeout,
                                final Collection<String> suites) {
        String listing = listing();
        Set<String> known = new TreeSet<>(CunitResults.suitesFromListing(listing));
        List<String> unknown = suites.stream().filter(s -> !known.contains(s)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("iscsi-test-cu has no suites " + unknown);
        }
        StringBuilder selected = new StringBuilder();
        for (String line : listing.split("\n")) {
            String name = line.strip();
            String[] parts = name.split("\\.");
            if (parts.length >= 2 && suites.contains(parts[0] + "." + parts[1])) {
                selected.append(name).append('\n');
            }
        }
        return run(url, dataloss, workDir, timeout, selected.toString(), List.copyOf(suites));
    }

    private static Run run(final String url, final boolean dataloss, final Path workDir, final Duration timeout,
                           final String listing, final List<String> suites) {
        List<String> expected = CunitResults.testsFromListing(listing);
        List<String> command = new ArrayList<>(List.of("iscsi-test-cu", "--xml"));
        if (dataloss) {
            command.add("--dataloss");
        }
        try {
            Files.createDirectories(workDir);
            Files.deleteIfExists(workDir.resolve(RESULTS_FILE));
            if (!suites.isEmpty()) {
                Path list = workDir.resolve(TEST_LIST_FILE);
                Files.writeString(list, String.join("\n", CunitResults.suitesFromListing(listing)) + "\n");
                command.add("--test=" + list);
            }
            command.add(url);
            Commands.Result result = Commands.run(timeout, workDir, command);
            Files.writeString(workDir.resolve(OUTPUT_FILE), result.output());
            Path report = workDir.resolve(RESULTS_FILE);
            String xml = Files.exists(report) ? Files.readString(report) : "";
            return new Run(expected, CunitResults.parse(xml, CunitResults.suitesFromListing(listing)), result, workDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
