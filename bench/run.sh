#!/usr/bin/env bash
# Entry point of the make targets (bench/bench.mk):
#   bench/run.sh micro   BPF_PROG_TEST_RUN per path, repeat 1e6 (bench-micro)
#   bench/run.sh flood   the netns flood lab (bench-flood)
#   bench/run.sh flip    the auto policy's time to flip under a flood (bench-flip)
#   bench/run.sh gateway the gateway lab, issue 16 (bench-gateway): plain
#                        forwarding, nftables SYNPROXY, xdpsyn gateway mode
#   bench/run.sh all     all four (bench)
#   bench/run.sh smoke   a tiny run of each, checked; ends "N passed, N failed"
# micro, flood, flip, gateway and all keep their raw results in bench/results/ and rewrite
# bench/RESULTS.md and bench/flood.png from them (bench/report.sh).
set -u
cd "$(dirname "$0")/.."
RES=bench/results
REPEAT=${BENCH_REPEAT:-1000000}
TRIALS=${BENCH_TRIALS:-5}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces, BPF)"
	echo "0 passed, 1 failed"
	exit 1
fi

meta() { # meta FILE CMD...: when, which tree, what command
	local f=$1; shift
	{
		echo "DATE='$(date -u '+%Y-%m-%d %H:%M UTC')'"
		echo "REV='$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- bpf include user 2>/dev/null || echo ' (+ uncommitted changes in bpf/ include/ user/)')'"
		echo "CMD='$*'"
	} >"$f"
}

micro() {
	mkdir -p "$RES"
	local cmd=(build/bench_micro --repeat "$REPEAT" --trials "$TRIALS" --md "$RES/micro.md" --tsv "$RES/micro.tsv")
	echo "== micro: ${cmd[*]}"
	"${cmd[@]}" | tee "$RES/micro.log"
	local rc=${PIPESTATUS[0]}
	meta "$RES/micro.meta" "${cmd[@]}"
	return "$rc"
}

flood() {
	mkdir -p "$RES"
	local cmd=(bench/flood.sh --out "$RES")
	echo "== flood: ${cmd[*]}"
	"${cmd[@]}" | tee "$RES/flood.log"
	local rc=${PIPESTATUS[0]}
	meta "$RES/flood.meta" "${cmd[@]}"
	return "$rc"
}

flip() {
	mkdir -p "$RES"
	local cmd=(bench/flip.sh --out "$RES")
	echo "== flip: ${cmd[*]}"
	"${cmd[@]}" | tee "$RES/flip.log"
	local rc=${PIPESTATUS[0]}
	meta "$RES/flip.meta" "${cmd[@]}"
	return "$rc"
}

gateway() {
	mkdir -p "$RES"
	local cmd=(bench/gateway.sh --out "$RES")
	echo "== gateway: ${cmd[*]}"
	"${cmd[@]}" | tee "$RES/gateway.log"
	local rc=${PIPESTATUS[0]}
	meta "$RES/gateway.meta" "${cmd[@]}"
	return "$rc"
}

case ${1:-} in
micro) micro; rc=$?; bench/report.sh; exit $rc ;;
flood) flood; rc=$?; bench/report.sh; exit $rc ;;
flip) flip; rc=$?; bench/report.sh; exit $rc ;;
gateway) gateway; rc=$?; bench/report.sh; exit $rc ;;
all)
	micro; rc1=$?
	flood; rc2=$?
	flip; rc3=$?
	gateway; rc4=$?
	bench/report.sh
	[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] && [ $rc4 -eq 0 ]
	exit $?
	;;
smoke)
	tmp=$(mktemp -d /tmp/xs-bench-smoke.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	total_pass=0 total_fail=0
	suite() { # suite NAME CMD...: run, add its "N passed, N failed" line
		local name=$1 log=$tmp/log rc last; shift
		echo "== $name"
		"$@" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		last=$(tail -n 1 "$log")
		if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
			total_pass=$((total_pass + BASH_REMATCH[1]))
			total_fail=$((total_fail + BASH_REMATCH[2]))
		else
			echo "$name: no summary line (crashed?)"
			total_fail=$((total_fail + 1))
		fi
		if [ "$rc" -ne 0 ] && [[ ! $last =~ [1-9][0-9]*\ failed ]]; then
			echo "$name: exit $rc with no failure counted"
			total_fail=$((total_fail + 1))
		fi
	}
	suite "bench micro (repeat 1000)" build/bench_micro --smoke --md "$tmp/micro.md" --tsv "$tmp/micro.tsv"
	suite "bench flood (xdpsyn, 2 s at 50k pps)" bench/flood.sh --smoke --out "$tmp/flood"
	suite "bench flip (auto policy, 1 s at 20k pps)" bench/flip.sh --smoke --out "$tmp/flip"
	suite "bench gateway (lab, forwarding, 1 s at 10k pps against nftables SYNPROXY and xdpsyn gateway mode)" bench/gateway.sh --smoke --out "$tmp/gateway"
	echo "$total_pass passed, $total_fail failed"
	[ "$total_fail" -eq 0 ]
	exit $?
	;;
*)
	echo "usage: bench/run.sh micro|flood|flip|gateway|all|smoke" >&2
	exit 2
	;;
esac
