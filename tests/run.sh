#!/usr/bin/env bash
# Runs every test suite and ends with one "N passed, N failed" line.
# A suite that was skipped (exit 77, e.g. not root) counts as failed, so a
# run can never look green without having run everything.
set -u
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0
run_suite() {
	local name=$1; shift
	local log rc last
	log=$(mktemp)
	echo "== $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	last=$(tail -n 1 "$log")
	rm -f "$log"
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		total_pass=$((total_pass + BASH_REMATCH[1]))
		total_fail=$((total_fail + BASH_REMATCH[2]))
	else
		echo "$name: no summary line (crashed?)"
		total_fail=$((total_fail + 1))
	fi
	if [ "$rc" -eq 77 ]; then
		echo "$name: SKIPPED — counted as a failure"
		total_fail=$((total_fail + 1))
	elif [ "$rc" -ne 0 ] && [[ ! $last =~ [1-9][0-9]*\ failed ]]; then
		echo "$name: exit $rc with no failure counted — counted as a failure"
		total_fail=$((total_fail + 1))
	fi
}
run_suite "unit (BPF_PROG_TEST_RUN)" build/test_unit
run_suite "gateway data path (BPF_PROG_TEST_RUN)" build/test_gw
run_suite "fuzz (BPF_PROG_TEST_RUN, 1e5 frames, independent oracle)" build/test_fuzz --frames 100000
run_suite "fuzz, track policy (BPF_PROG_TEST_RUN, 1e5 frames, independent oracle)" build/test_fuzz --policy track --frames 100000
run_suite "end-to-end (network namespaces)" tests/e2e/test_e2e.sh
run_suite "tracker (network namespaces)" tests/e2e/test_tracker.sh
run_suite "track and auto policies (network namespaces)" tests/e2e/test_track.sh
run_suite "bad input (CLI)" tests/e2e/test_badinput.sh
run_suite "man page: every setting of user/settings.h with its range and default" tests/docs/check_man.py build/settings_dump build/xdpsyn man/xdpsyn.8
run_suite "lifecycle, faults, forgery" tests/e2e/test_lifecycle.sh
run_suite "libxdp: beside xdp-filter (network namespaces, xdp-tools)" tests/e2e/test_libxdp.sh
run_suite "gateway mode: the CLI (attach --gateway, status, set, servers, flows, detach, kept state)" tests/e2e/test_gw_cli.sh
run_suite "do no harm: direct vs through xdpsyn (network namespaces)" tests/e2e/test_noharm.sh
run_suite "interfaces: jumbo MTU, offloaded VLAN tags (network namespaces)" tests/e2e/test_ifaces.sh
run_suite "bench smoke (the benchmarks still run)" bench/run.sh smoke
run_suite "Debian package (make deb, completion, dashboard, scratch-root install)" tests/e2e/test_deb.sh
run_suite "kernels: Debian 6.1 and 6.12 in qemu (tests/vm)" tests/vm/run.sh
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
