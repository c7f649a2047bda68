#!/usr/bin/env bash
# `make check` (tests/check.mk): runtime and static checks of the userspace
# CLI, one check per item/suite, ending with "N passed, N failed"; exit 1 on
# any failure. Not part of `make test`. Needs root (network namespaces, BPF).
#   sanitizers: build/san/xdpsyn (ASan+UBSan) through four e2e suites
#   clang-tidy, cppcheck: user/*.c tests/tools/*.c
#   valgrind: stats/flows/top/status against a lab attachment
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
PASS=0 FAIL=0
ok()  { echo "ok   $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
SRCS=(user/*.c tests/tools/*.c)
SAN_BIN=${SAN_BIN:-$ROOT/build/san/xdpsyn}
WORK=$(mktemp -d /tmp/xdpsyn-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SAN_RE='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer'

if [ "$(id -u)" != 0 ]; then
	echo "make check: needs root (network namespaces, BPF)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# -- 1. ASan+UBSan build through the e2e suites ------------------------------
# Reports go to per-process files (log_path) as well as being grepped from
# the suites' output: a suite may send the CLI's stderr to /dev/null.
# test_lifecycle SIGKILLs attach on purpose: a killed process reports nothing.
san_suite() { # san_suite SCRIPT
	local name=$1 log=$WORK/$1.log logs=$WORK/san-$1 last rc
	mkdir -p "$logs"
	rm -rf "$ROOT/build/san/san-$name" # a previous run's reports
	echo "== sanitizers: $name"
	XDPSYN=$SAN_BIN \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$logs/asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan \
		"tests/e2e/$name" >"$log" 2>&1
	rc=$?
	last=$(tail -n 1 "$log")
	if grep -qE "$SAN_RE" "$log" "$logs"/* 2>/dev/null; then
		grep -hE -A20 "$SAN_RE" "$log" "$logs"/* 2>/dev/null | head -n 60
		mkdir -p "$ROOT/build/san" && cp -r "$logs" "$ROOT/build/san/" 2>/dev/null
		bad "sanitizers: $name" "sanitizer report (above; logs in build/san/san-$name)"
	elif [ "$rc" -ne 0 ] || ! [[ $last =~ ^[0-9]+\ passed,\ 0\ failed ]]; then
		grep -E '^FAIL' "$log" | head -n 20
		bad "sanitizers: $name" "exit $rc, summary '$last'"
	else
		ok "sanitizers: $name ($last)"
	fi
}
if [ -x "$SAN_BIN" ]; then
	for s in test_e2e.sh test_tracker.sh test_track.sh test_badinput.sh test_lifecycle.sh; do
		san_suite "$s"
	done
else
	bad "sanitizers" "$SAN_BIN not built (make check builds it)"
fi

# -- 2. clang-tidy (.clang-tidy) ---------------------------------------------
# Findings located in build/ (bpftool's generated skeletons) are not ours:
# the static analyzer reports them there whatever HeaderFilterRegex says
# (a false "leak" of the skeleton freed by bpf_object__destroy_skeleton).
echo "== clang-tidy"
: >"$WORK/tidy"
for f in "${SRCS[@]}"; do
	clang-tidy -quiet "$f" -- -Ibuild -Iinclude -Iuser >>"$WORK/tidy" 2>/dev/null
done
grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$WORK/tidy" |
	grep -vE "^($ROOT/)?build/" >"$WORK/tidy.ours"
if [ -s "$WORK/tidy.ours" ]; then
	cat "$WORK/tidy.ours"
	bad "clang-tidy" "$(wc -l <"$WORK/tidy.ours") finding(s)"
else
	ok "clang-tidy: ${#SRCS[@]} files, 0 findings"
fi

# -- 3. cppcheck ---------------------------------------------------------------
# Without -Ibuild: the skeletons hold the BPF objects as megabyte strings
# that take cppcheck minutes; libbpf_common.h gives it LIBBPF_OPTS,
# libxdp.h DECLARE_LIBXDP_OPTS and libbpf_legacy.h the DECLARE_LIBBPF_OPTS
# that one expands to.
echo "== cppcheck"
if out=$(cppcheck -q --enable=warning,performance,portability --error-exitcode=1 \
	--inline-suppr -Iinclude -Iuser --include=/usr/include/bpf/libbpf_common.h \
	--include=/usr/include/bpf/libbpf_legacy.h --include=/usr/include/xdp/libxdp.h \
	"${SRCS[@]}" 2>&1) && [ -z "$out" ]; then
	ok "cppcheck: ${#SRCS[@]} files, 0 findings"
else
	echo "$out"
	bad "cppcheck" "findings above"
fi

# -- 4. valgrind against a lab attachment --------------------------------------
echo "== valgrind"
valgrind_checks() {
	LAB_ID=chk$$
	source tests/e2e/lib.sh
	trap 'lab_down; rm -rf "$WORK"' EXIT
	local port=8080 out rc cmd
	lab_up || { bad "valgrind: lab setup" "could not build the namespaces"; return; }
	lab_bg "$NS_SRV" "$ROOT/build/tcpecho" serve $port
	sleep 0.3
	if ! out=$(in_ns "$NS_SRV" "$XDPSYN" attach "$SRV_IF" --ports $port 2>&1); then
		bad "valgrind: attach" "$out"
		return
	fi
	in_ns "$NS_CLI" "$ROOT/build/tcpecho" client $SRV4 $port -n 20 -b 1000 -q >/dev/null 2>&1
	in_ns "$NS_CLI" "$ROOT/build/tcpecho" client $SRV6 $port -n 5 -b 1000 -q >/dev/null 2>&1
	for cmd in "stats $SRV_IF" "flows $SRV_IF" "top $SRV_IF" "status"; do
		# shellcheck disable=SC2086
		in_ns "$NS_SRV" valgrind -q --error-exitcode=1 --leak-check=full \
			--suppressions="$ROOT/tests/valgrind.supp" \
			"$XDPSYN" $cmd >"$WORK/vg.out" 2>&1
		rc=$?
		if [ $rc -eq 0 ]; then
			ok "valgrind: xdpsyn $cmd"
		else
			tail -n 40 "$WORK/vg.out"
			bad "valgrind: xdpsyn $cmd" "exit $rc"
		fi
	done
}
valgrind_checks

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
