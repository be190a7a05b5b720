package dev.virtman.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class CunitResultsTest {
    private static final String LISTING = """
            ALL
            ALL.Read10
            ALL.Read10.Simple
            ALL.Read10.BeyondEol
            SCSI
            SCSI.Read10
            SCSI.Read10.Simple
            SCSI.Read10.BeyondEol
            iSCSI
            iSCSI.iSCSIdatasn
            iSCSI.iSCSIdatasn.iSCSIDataSnInvalid
            """;

    private static final String REPORT = """
            <CUNIT_RUN_SUITE><CUNIT_RUN_SUITE_SUCCESS>
              <SUITE_NAME> Read10 </SUITE_NAME>
              <CUNIT_RUN_TEST_RECORD><CUNIT_RUN_TEST_SUCCESS>
                <TEST_NAME> Simple </TEST_NAME>
              </CUNIT_RUN_TEST_SUCCESS></CUNIT_RUN_TEST_RECORD>
              <CUNIT_RUN_TEST_RECORD><CUNIT_RUN_TEST_FAILURE>
                <TEST_NAME> BeyondEol </TEST_NAME>
                <FILE_NAME> test_read10_beyond_eol.c </FILE_NAME>
              </CUNIT_RUN_TEST_FAILURE></CUNIT_RUN_TEST_RECORD>
              <CUNIT_RUN_TEST_RECORD><CUNIT_RUN_TEST_FAILURE>
                <TEST_NAME> BeyondEol </TEST_NAME>
              </CUNIT_RUN_TEST_FAILURE></CUNIT_RUN_TEST_RECORD>
            </CUNIT_RUN_SUITE_SUCCESS></CUNIT_RUN_SUITE>
            <CUNIT_RUN_SUITE><CUNIT_RUN_SUITE_SUCCESS>
              <SUITE_NAME> Read10 </SUITE_NAME>
              <CUNIT_RUN_TEST_RECORD><CUNIT_RUN_TEST_FAILURE>
                <TEST_NAME> Simple </TEST_NAME>
              </CUNIT_RUN_TEST_FAILURE></CUNIT_RUN_TEST_RECORD>
              <CUNIT_RUN_TEST_RECORD><CUNIT_RUN_TEST_SUCC""";

    @Test
    void namesTestsByFamilyInListingOrderAndCountsATestOnceWhateverItsFailedAssertions() {
        CunitResults results = CunitResults.parse(REPORT, CunitResults.suitesFromListing(LISTING));

        assertThat(results.passed()).containsExactly("ALL.Read10.Simple");
        assertThat(results.failed()).containsExactly("ALL.Read10.BeyondEol", "SCSI.Read10.Simple");
    }

    @Test
    void testsATruncatedReportNeverReachedAreNotRun() {
        List<String> expected = CunitResults.testsFromListing(LISTING);
        CunitResults results = CunitResults.parse(REPORT, CunitResults.suitesFromListing(LISTING));

        assertThat(expected).hasSize(5);
        assertThat(results.notRun(expected))
                .containsExactly("SCSI.Read10.BeyondEol", "iSCSI.iSCSIdatasn.iSCSIDataSnInvalid");
    }

    @Test
    void anEmptyReportHasNoOutcomes() {
        assertThat(CunitResults.parse("", List.of()).outcomes()).isEmpty();
    }
}
