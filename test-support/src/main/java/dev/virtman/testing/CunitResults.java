package dev.virtman.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The outcome of each test in a CUnit "automated" report ({@code CUnitAutomated-Results.xml},
 * what {@code iscsi-test-cu --xml} writes into its working directory).
 *
 * <p>The report is read tag by tag rather than with an XML parser on purpose: CUnit writes it as
 * the run proceeds, so a run we had to kill (a hung target) leaves a truncated, ill-formed file
 * whose finished tests still count.
 *
 * <p>Test names are {@code FAMILY.Suite.Test}, as {@code iscsi-test-cu --list} prints them. The
 * report names only the suite, and iscsi-test-cu runs the same suite in several families
 * ({@code ALL}, {@code LINUX}, {@code SCSI}, {@code iSCSI}), but it runs the suites in listing
 * order, so the n-th suite of the report is the n-th suite of the listing. A test with several failed
 * assertions appears once per assertion in the report and once here. CUnit counts a test that
 * skipped itself ("[SKIPPED] ... not implemented") as a success; so does this class, matching
 * the figures iscsi-test-cu prints. A suite whose set-up failed reports no tests at all; they
 * show up in {@link #notRun}.
 */
public final class CunitResults {
    /** How one test ended. */
    public enum Outcome { PASSED, FAILED }

    private static final Pattern ELEMENT = Pattern.compile(
            "<(SUITE_NAME|TEST_NAME)>\\s*(.*?)\\s*</\\1>|<(CUNIT_RUN_TEST_SUCCESS|CUNIT_RUN_TEST_FAILURE)>");

    private final Map<String, Outcome> outcomes;

    private CunitResults(final Map<String, Outcome> outcomes) {
        this.outcomes = outcomes;
    }

    /**
     * Parses a (possibly truncated) CUnit automated results report.
     *
     * @param qualifiedSuites the suites in run order, {@code FAMILY.Suite} ({@link #suitesFromListing})
     */
    public static CunitResults parse(final String xml, final List<String> qualifiedSuites) {
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        int nextSuite = 0;
        String suite = null;
        String pendingRecord = null;
        Matcher m = ELEMENT.matcher(xml);
        while (m.find()) {
            if ("SUITE_NAME".equals(m.group(1))) {
                String simple = m.group(2);
                int at = nextSuite;
                while (at < qualifiedSuites.size() && !qualifiedSuites.get(at).endsWith("." + simple)) {
                    at++;
                }
                if (at < qualifiedSuites.size()) {
                    suite = qualifiedSuites.get(at);
                    nextSuite = at + 1;
                } else {
                    suite = "?." + simple; // not in the listing: keep the outcome, flag the name
                }
            } else if ("TEST_NAME".equals(m.group(1))) {
                if (suite != null && pendingRecord != null) {
                    String name = suite + "." + m.group(2);
                    boolean failed = "CUNIT_RUN_TEST_FAILURE".equals(pendingRecord);
                    // any failed assertion fails the test, whatever order records come in
                    outcomes.merge(name, failed ? Outcome.FAILED : Outcome.PASSED,
                            (a, b) -> a == Outcome.FAILED || b == Outcome.FAILED ? Outcome.FAILED : Outcome.PASSED);
                }
                pendingRecord = null;
            } else {
                pendingRecord = m.group(3);
            }
        }
        return new CunitResults(outcomes);
    }

    public Map<String, Outcome> outcomes() {
        return outcomes;
    }

    public Set<String> failed() {
        return names(Outcome.FAILED);
    }

    public Set<String> passed() {
        return names(Outcome.PASSED);
    }

    /** Tests in {@code expected} with no outcome here: the run stopped before reaching them. */
    public Set<String> notRun(final Iterable<String> expected) {
        Set<String> missing = new TreeSet<>();
        for (String name : expected) {
            if (!outcomes.containsKey(name)) {
                missing.add(name);
            }
        }
        return missing;
    }

    private Set<String> names(final Outcome outcome) {
        Set<String> names = new TreeSet<>();
        outcomes.forEach((name, o) -> {
            if (o == outcome) {
                names.add(name);
            }
        });
        return names;
    }

    /** Test names ({@code FAMILY.Suite.Test}) in {@code iscsi-test-cu --list} output. */
    public static List<String> testsFromListing(final String listing) {
        return namesWithParts(listing, 3);
    }

    /** Suite names ({@code FAMILY.Suite}), in run order, in {@code iscsi-test-cu --list} output. */
    public static List<String> suitesFromListing(final String listing) {
        return namesWithParts(listing, 2);
    }

    private static List<String> namesWithParts(final String listing, final int parts) {
        List<String> names = new ArrayList<>();
        for (String line : listing.split("\n")) {
            String name = line.strip();
            if (!name.isEmpty() && name.split("\\.").length == parts) {
                names.add(name);
            }
        }
        return names;
    }
}
