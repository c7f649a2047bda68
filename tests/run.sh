#!/usr/bin/env bash
# Runs every test suite and ends with one "N passed, N failed" line.
set -u
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0
run_suite() {
	local name=$1; shift
	local out
	echo "== $name"
	out=$("$@" 2>&1 | tee /dev/stderr | tail -n 1)
	if [[ $out =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		total_pass=$((total_pass + BASH_REMATCH[1]))
		total_fail=$((total_fail + BASH_REMATCH[2]))
	else
		echo "$name: no summary line (crashed?)" >&2
		total_fail=$((total_fail + 1))
	fi
}
run_suite "unit (BPF_PROG_TEST_RUN)" build/test_unit
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
