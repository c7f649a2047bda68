#!/usr/bin/env bash
# The auto policy's figure: how long after a SYN flood begins does xdpsyn
# stop giving SYNs to the kernel and answer them in XDP, and how long after
# it ends does it go back to tracking. In the flood lab of tests/e2e/lib.sh
# (the conventions of bench/flood.sh), for each flood rate, with a fresh
#   xdpsyn attach IFACE --ports 8080 --policy auto --syn-rate 10000 --calm 2
# a legitimate client connects throughout (started 0.5 s before the flood,
# one connection every 40 ms) and a spoofed SYN flood runs for --secs.
#
#   bench/flip.sh [--out DIR] [--rates "20000 100000 300000 max"] [--secs 3] [--smoke]
#
# Measured per rate:
#   flip_ms      the switch to proxy (its .policy.history entry, else
#                .policy.since_unix) minus the flood's start (date +%s.%N
#                just before synflood starts)
#   kernel_syns_before_flip  counter track_syn from just before the flood to
#                its end: the SYNs the kernel got before XDP took over (the
#                few legitimate SYNs of that interval included)
#   xdp_synacks  counter synack_tx over the same interval
#   legit        the client's ok / total and p99 connect time
#   back_ms      the switch back to track (history, else the 50 ms poll that
#                saw it) minus the flood's end (when synflood exited)
#   switches     policy_to_proxy / policy_to_track over the whole run (1 / 1)
# Writes DIR/flip.tsv and DIR/flip.env (for bench/report.sh) and prints a
# table. --smoke: one 1 s flood at 20000/s, checked (flipped once, within
# 1 s, back once, every legitimate connection ok); ends "N passed, N failed".
#
# CPU: as bench/flood.sh, core 0 carries the attacker, the switch and the
# client; core 1 the server (its interface's threaded NAPI and tcpecho).
#
# Network rules: everything stays in the namespaces lib.sh creates (a unique
# LAB_ID), addresses in 10.201.0.0/16 only, spoofed sources 10.201.128.0/17
# routed (in the server's namespace only) to the attacker, no default route;
# every flood is bounded by --count and --duration; the EXIT trap removes
# what this script created and stops only the processes it started.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD

OUT=$ROOT/bench/results
RATES="20000 100000 300000 max"
SECS=3
SMOKE=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	--smoke) SMOKE=1; shift ;;
	*) echo "usage: bench/flip.sh [--out DIR] [--rates LIST] [--secs S] [--smoke]" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "flip: needs root (network namespaces, BPF)"
	echo "0 passed, 1 failed"
	exit 1
fi
[ "$SMOKE" = 1 ] && RATES=20000 SECS=1
awk -v s="$SECS" 'BEGIN { exit !(s > 0 && s <= 10) }' ||
	{ echo "flip: --secs $SECS: floods are 10 s at most" >&2; exit 2; }

PORT=8080
SYN_RATE=10000 CALM=2
MAX_PPS_CAP=1000000   # --count bound of an unpaced flood: 1 Mpps x SECS
LEGIT_LEAD=0.5        # the client starts this long before the flood
LEGIT_I=40            # ms between its connections
LEGIT_T=3000          # ms each connection may take (connect, then echo)
# enough connections to span the flood and 0.5 s after it
LEGIT_N=$(awk -v s="$SECS" -v l="$LEGIT_LEAD" -v i="$LEGIT_I" 'BEGIN { printf "%d", (s + l + 0.5) * 1000 / i }')

LAB_ID=f$$
source tests/e2e/lib.sh
source bench/benchlab.sh
SRV_CPU=1 ATK_CPU=0
TMP=$(mktemp -d /tmp/xs-flip-$LAB_ID.XXXXXX)
PASS=0 FAIL=0
ok()  { echo "ok   $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1"; FAIL=$((FAIL + 1)); }

cleanup() {
	set +e
	lab_down
	rm -rf "$TMP"
	if [ "$SMOKE" = 1 ]; then echo "$PASS passed, $FAIL failed"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

x() { srv "$XDPSYN" "$@"; }
now() { date +%s.%N; }
counters() { x stats "$SRV_IF" -j | jq -c '.counters'; }
cnt() { jq -r ".$2 // 0" <<<"$1"; } # cnt JSON NAME
# the realtime (s, float) of the first history entry switching to TO, and its reason
JQ_SWITCH='[.policy.history[]? | select(.to == $to)] | .[0] // empty |
	((.time | capture("^(?<s>[^.]+)\\.(?<ms>[0-9]+)Z$")) as $c |
	 (($c.s + "Z") | fromdateiso8601) + ($c.ms | tonumber) / 1000 | tostring) + " " + .reason'

# ---- the lab ------------------------------------------------------------------
bench_lab_up || { bad "lab setup"; exit 1; }
ATTACH_CMD="xdpsyn attach IFACE --ports $PORT --policy auto --syn-rate $SYN_RATE --calm $CALM"


# ---- one flood ---------------------------------------------------------------------
TSV=$TMP/flip.tsv
COLS="rate_offered rate_measured flip_ms kernel_syns_before_flip xdp_synacks legit_ok legit_total legit_p99_ms back_ms_after_flood_end switches_to_proxy switches_to_track flip_reason"
tr ' ' '\t' <<<"$COLS" >"$TSV"

# measure_one RATE: sets ROW (tab-separated) and prints what it saw
measure_one() {
	local rate=$1 rate_arg count flood_pid legit_pid c0 c1 c2 t0 t1 st sw back_t i
	if [ "$rate" = max ]; then
		rate_arg=0 count=$(awk -v s="$SECS" -v m=$MAX_PPS_CAP 'BEGIN { printf "%d", m * s }')
	else
		rate_arg=$rate count=$(awk -v r="$rate" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
	fi
	ROW=
	[ -e "/sys/fs/bpf/xdpsyn/$SRV_IF" ] && x detach "$SRV_IF" >/dev/null
	server_restart || { echo "tcpecho server did not start"; return 1; }
	x attach "$SRV_IF" --ports $PORT --policy auto --syn-rate $SYN_RATE --calm $CALM >"$TMP/attach.out" 2>&1 ||
		{ echo "attach failed: $(cat "$TMP/attach.out")"; return 1; }
	# the interface's NAPI is made again with the XDP program: thread and pin it
	thread_pin "$NS_SRV" "$SRV_IF" $SRV_CPU || return 1
	pin_napi "$SW_SRV" $ATK_CPU || { echo "no NAPI thread for $SW_SRV"; return 1; }
	sleep 1 # settle
	st=$(x status "$SRV_IF" -j)
	[ "$(jq -r .policy.state <<<"$st")" = track ] ||
		{ echo "not tracking before the flood: $(jq -c .policy <<<"$st")"; return 1; }

	in_ns "$NS_CLI" taskset -c $ATK_CPU "$ROOT/build/tcpecho" client $SRV4 $PORT -n $LEGIT_N \
		-i $LEGIT_I -t $LEGIT_T -q >"$TMP/legit.out" 2>&1 &
	legit_pid=$!
	LAB_PIDS+=("$legit_pid")
	sleep $LEGIT_LEAD
	c0=$(counters)
	t0=$(now)
	in_ns "$NS_ATK" taskset -c $ATK_CPU "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$SRV_MAC" \
		--dport $PORT --src-net "$FLOOD_NET4" --rate $rate_arg --count $count --duration "$SECS" -q \
		>"$TMP/flood.out" 2>&1 &
	flood_pid=$!
	LAB_PIDS+=("$flood_pid")
	wait_bg $flood_pid
	t1=$(now)
	c1=$(counters)
	# back to track: poll every 50 ms, up to calm + 3 s after the flood's end
	back_t=
	for ((i = 0; i < (CALM + 3) * 20; i++)); do
		if [ "$(x status "$SRV_IF" -j | jq -r .policy.state)" = track ]; then
			back_t=$(now)
			break
		fi
		sleep 0.05
	done
	wait_bg $legit_pid
	st=$(x status "$SRV_IF" -j)
	c2=$(counters)

	local sent pps legit lok lfail p99 to_p to_t flip_s flip_why back_s
	sent=$(grep -o 'sent=[0-9]*' "$TMP/flood.out" | cut -d= -f2)
	pps=$(grep -o 'pps=[0-9]*' "$TMP/flood.out" | cut -d= -f2)
	legit=$(grep '^ok=' "$TMP/legit.out" | tail -n 1)
	lok=$(grep -o '^ok=[0-9]*' <<<"$legit" | cut -d= -f2)
	lfail=$(grep -o 'failed=[0-9]*' <<<"$legit" | cut -d= -f2)
	p99=$(grep -o 'p99_ms=[0-9.]*' <<<"$legit" | cut -d= -f2)
	if [ -z "$sent" ] || [ -z "$lok" ] || [ -z "$lfail" ]; then
		echo "flood or client gave no result: $(cat "$TMP/flood.out") / $(cat "$TMP/legit.out")"
		return 1
	fi
	read -r flip_s flip_why < <(jq -r --arg to proxy "$JQ_SWITCH" <<<"$st")
	if [ -z "${flip_s:-}" ] && [ "$(cnt "$c2" policy_to_proxy)" -gt "$(cnt "$c0" policy_to_proxy)" ]; then
		# no history: since_unix, if the last switch is the one to proxy
		[ "$(jq -r .policy.state <<<"$st")" = proxy ] &&
			flip_s=$(jq -r .policy.since_unix <<<"$st") flip_why=$(jq -r .policy.reason <<<"$st")
	fi
	read -r back_s _ < <(jq -r --arg to track "$JQ_SWITCH" <<<"$st")
	[ -z "${back_s:-}" ] && back_s=$back_t
	to_p=$(( $(cnt "$c2" policy_to_proxy) - $(cnt "$c0" policy_to_proxy) ))
	to_t=$(( $(cnt "$c2" policy_to_track) - $(cnt "$c0" policy_to_track) ))
	ROW=$(awk -v rate="$rate" -v pps="$pps" -v flip="${flip_s:-}" -v t0="$t0" -v t1="$t1" \
		-v ksyn=$(( $(cnt "$c1" track_syn) - $(cnt "$c0" track_syn) )) \
		-v xsa=$(( $(cnt "$c1" synack_tx) - $(cnt "$c0" synack_tx) )) \
		-v lok="$lok" -v lfail="$lfail" -v p99="$p99" -v back="${back_s:-}" \
		-v to_p=$to_p -v to_t=$to_t -v why="${flip_why:-none}" 'BEGIN {
		f = flip == "" ? "NA" : sprintf("%.0f", (flip - t0) * 1000)
		b = back == "" ? "NA" : sprintf("%.0f", (back - t1) * 1000)
		printf "%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s",
			rate, pps, f, ksyn, xsa, lok, lok + lfail, p99, b, to_p, to_t, why }')
	echo "  flood: $(cat "$TMP/flood.out")"
	echo "  legit: $legit"
	echo "  policy: $(jq -c '.policy | {state, reason, switches_to_proxy, switches_to_track, history}' <<<"$st")"
	return 0
}

echo "flip lab $LAB_ID: rates [$RATES], ${SECS} s floods, $ATTACH_CMD, $LEGIT_N legit connections ${LEGIT_I} ms apart from ${LEGIT_LEAD} s before each flood"
for rate in $RATES; do
	echo "== $rate"
	if measure_one "$rate" >"$TMP/why" 2>&1; then
		cat "$TMP/why"
		echo "$ROW" >>"$TSV"
	else
		cat "$TMP/why"
		bad "$rate: measurement failed"
	fi
done
[ -e "/sys/fs/bpf/xdpsyn/$SRV_IF" ] && x detach "$SRV_IF" >/dev/null

# ---- table, checks, outputs ---------------------------------------------------------
echo
awk -F'\t' '
	NR == 1 { printf "%-7s %9s %8s %12s %11s %9s %8s %8s %6s %s\n", "rate", "measured", "flip ms", "kernel SYNs", "XDP SYN-ACK", "legit", "p99 ms", "back ms", "sw", "reason"; next }
	{ printf "%-7s %9d %8s %12d %11d %5d/%-3d %8s %8s %3d/%-2d %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$TSV"
echo

rows=$(($(wc -l <"$TSV") - 1))
want=$(wc -w <<<"$RATES")
[ "$rows" -eq "$want" ] && ok "all $want floods measured" || bad "$rows of $want floods measured"
if [ "$SMOKE" = 1 ] && [ "$rows" -ge 1 ]; then
	r=$(tail -n 1 "$TSV")
	IFS=$'\t' read -r _ _ flip _ xsa lok ltot _ back to_p to_t why <<<"$r"
	[ "$to_p" = 1 ] && ok "flipped to proxy exactly once (reason $why)" || bad "switches to proxy: $to_p (reason $why)"
	awk -v f="$flip" 'BEGIN { exit !(f != "NA" && f >= 0 && f < 1000) }' &&
		ok "flip ${flip} ms after the flood began (< 1 s)" || bad "flip latency $flip ms (want 0..1000)"
	[ "$xsa" -gt 0 ] && ok "SYNs answered in XDP after the flip ($xsa)" || bad "no SYN-ACK from XDP"
	[ "$to_t" = 1 ] && [ "$back" != NA ] && ok "back to track once, ${back} ms after the flood ended (calm ${CALM} s)" ||
		bad "back to track: switches $to_t, back $back ms"
	[ "$lok" = "$ltot" ] && [ "$ltot" -gt 0 ] && ok "every legitimate connection succeeded ($lok/$ltot)" ||
		bad "legitimate connections $lok/$ltot"
fi
mkdir -p "$OUT"
cp "$TSV" "$OUT/flip.tsv"
{
	echo "LAB_ID=$LAB_ID"
	echo "SECS=$SECS"
	echo "SYN_RATE=$SYN_RATE"
	echo "CALM=$CALM"
	echo "ATTACH_CMD='$ATTACH_CMD'"
	echo "SYNFLOOD_CMD='synflood -i eth0 --dst-ip $SRV4 --dst-mac SRV_MAC --dport $PORT --src-net $FLOOD_NET4 --rate RATE --count RATE*$SECS --duration $SECS -q (max: --rate 0 --count $MAX_PPS_CAP*$SECS)'"
	echo "LEGIT_CMD='tcpecho client $SRV4 $PORT -n $LEGIT_N -i $LEGIT_I -t $LEGIT_T -q (started ${LEGIT_LEAD} s before the flood)'"
} >"$OUT/flip.env"
[ "$FAIL" -eq 0 ]
