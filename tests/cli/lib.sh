# lib.sh - helpers shared by the CLI test scripts (sourced).
# Each script counts checks with ok/fail and ends with "NAME: N passed, N failed".
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND... : passes when the command succeeds
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok; else fail "$d"; fi; }
finish() { echo "$1: $PASSED passed, $FAILED failed"; [ "$FAILED" = 0 ]; }
