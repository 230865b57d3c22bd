#!/usr/bin/env bash
# Sums the <Counters> of every TRX file in a results directory and prints one line:
#   tests: N passed, N failed, N skipped
# Exits 0 only if nothing failed and something passed.
#
# usage: scripts/count-results.sh RESULTS_DIR [EXTRA_FAILED]
#   EXTRA_FAILED  failures the caller saw that left no TRX (e.g. a test host that
#                 could not start); each counts as one failed test.
#
# Counting rules (checked against TRX files written by VSTest 17.14 + xunit 2.9):
#   passed  = passed
#   failed  = failed + error + timeout + aborted; a run whose ResultSummary outcome is
#             Failed/Error/Aborted/Timeout but reports no failed test (a crashed test
#             host) counts as one failure
#   skipped = total - executed (xunit's skipped tests are not executed, yet VSTest
#             leaves notExecuted at 0), or notExecuted if that is larger
# No TRX at all (the build failed, nothing ran) is one failure.
set -euo pipefail

dir=${1:?usage: count-results.sh RESULTS_DIR [EXTRA_FAILED]}
extra_failed=${2:-0}

shopt -s nullglob globstar
trx_files=("$dir"/**/*.trx)

if ((${#trx_files[@]} == 0)); then
    echo "tests: 0 passed, $((extra_failed > 0 ? extra_failed : 1)) failed, 0 skipped"
    exit 1
fi

# RS="<" makes every XML element one record, wherever the line breaks fall; a literal
# "<" cannot occur in TRX text content because XML escapes it.
awk -v RS='<' -v extra_failed="$extra_failed" '
    function attr(name,    m) {
        if (match($0, "[ \t\r\n]" name "=\"[0-9]+\"")) {
            m = substr($0, RSTART, RLENGTH)
            gsub(/[^0-9]/, "", m)
            return m + 0
        }
        return 0
    }
    # A file is settled when the next one starts or input ends, so the order of
    # ResultSummary and Counters inside it does not matter.
    function settle() {
        if (bad_outcome && file_failed == 0) failed += 1
        bad_outcome = 0; file_failed = 0
    }
    FNR == 1 { settle() }
    /^Counters[ \t\r\n]/ {
        total = attr("total"); executed = attr("executed"); not_executed = attr("notExecuted")
        passed += attr("passed")
        file_failed = attr("failed") + attr("error") + attr("timeout") + attr("aborted")
        failed += file_failed
        s = total - executed
        if (not_executed > s) s = not_executed
        if (s > 0) skipped += s
    }
    /^ResultSummary[ \t\r\n]/ && /outcome="(Failed|Error|Aborted|Timeout)"/ { bad_outcome = 1 }
    END {
        settle()
        failed += extra_failed
        printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped
        exit (failed == 0 && passed > 0) ? 0 : 1
    }
' "${trx_files[@]}"
