#!/usr/bin/env bash
# The flood lab: a spoofed SYN flood against a real server in network
# namespaces (tests/e2e/lib.sh), for each defence in turn, in one run:
#   none     net.ipv4.tcp_syncookies=0, listen backlog 128
#   cookies  net.ipv4.tcp_syncookies=2 (the kernel's SYN cookies, always)
#   nft      nftables SYNPROXY in the server's namespace
#   xdpsyn   xdpsyn attach IFACE --ports PORT
#   xdp-floor  (a reference, not a defence) floor_synack from
#            bench/floors.bpf.c on the server's interface: every SYN answered
#            in XDP with a constant-ISN SYN-ACK, nothing checked or tracked;
#            the lab's floor for answering SYNs in XDP (legit clients fail)
# At each flood rate, 200 legitimate connections are made during the flood.
#
#   bench/flood.sh [--out DIR] [--rates "100000 200000 300000 max"]
#                  [--defences "none cookies nft xdpsyn xdp-floor"] [--secs 5] [--smoke]
#
# Writes DIR/flood.tsv (one row per defence and rate) and DIR/flood.env (the
# lab's parameters, for bench/report.sh). --smoke: one 2 s flood at 50k pps
# against xdpsyn only, checked (ends with "N passed, N failed").
#
# CPU attribution (2 cores): core 0 carries the attacker (synflood), the
# switch (bridge forwarding, the veth peers' NAPI), and the legitimate
# client; core 1 carries the server: the NAPI thread of the server's
# interface (threaded NAPI, pinned there: XDP, the stack's receive path,
# netfilter, TCP, the SYN-ACKs' transmit) and the tcpecho server. Reported:
# the server NAPI thread's own CPU time (from /proc/PID/schedstat, exact),
# core 1's system+irq+softirq share from /proc/stat (tick-sampled, includes
# anything else that ran there), and the NAPI thread's CPU per SYN received.
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
RATES="100000 200000 300000 max"
DEFENCES="none cookies nft xdpsyn xdp-floor"
SECS=5
SMOKE=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--defences) DEFENCES=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	--smoke) SMOKE=1; shift ;;
	*) echo "usage: bench/flood.sh [--out DIR] [--rates LIST] [--defences LIST] [--secs S] [--smoke]" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "flood: needs root (network namespaces, BPF)"
	echo "0 passed, 1 failed"
	exit 1
fi

PORT=8080
BACKLOG=128          # net.core.somaxconn in the server's namespace
MAX_PPS_CAP=1000000  # --count bound of an unpaced flood: 1 Mpps x SECS
if [ "$SMOKE" = 1 ]; then
	# 20 connections over 0.3 s from 0.2 s into a 2 s flood, each given
	# 1.5 s: a SYN or SYN-ACK the saturated veth rings drop (the lab's,
	# not xdpsyn's: sw_ring_drop, srv_tx_drop) is retransmitted at 1 s,
	# as it would be without xdpsyn
	RATES=50000 DEFENCES=xdpsyn SECS=2
	LEGIT_N=20 LEGIT_SPREAD_MS=300 LEGIT_TIMEOUT_MS=1500
	WIN_START=0.2 WIN_LEN=1.6
else
	# 200 connections started evenly over 2 s from 0.5 s into the flood,
	# each given 2 s (one SYN retransmission at 1 s fits): all within 4.5 s
	LEGIT_N=200 LEGIT_SPREAD_MS=2000 LEGIT_TIMEOUT_MS=2000
	WIN_START=0.5 WIN_LEN=4.0
fi
awk -v s="$SECS" -v w="$WIN_START" -v l="$WIN_LEN" -v sp="$LEGIT_SPREAD_MS" -v t="$LEGIT_TIMEOUT_MS" \
	'BEGIN { exit !(s <= 5 && w + l <= s && w + (sp + t) / 1000 <= s) }' ||
	{ echo "flood: --secs $SECS: floods are 5 s at most and must cover the legit window" >&2; exit 2; }

LAB_ID=b$$
source tests/e2e/lib.sh
source bench/benchlab.sh
SRV_CPU=1 ATK_CPU=0
TMP=$(mktemp -d /tmp/xs-bench-$LAB_ID.XXXXXX)
PASS=0 FAIL=0
ok()  { echo "ok   $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1"; FAIL=$((FAIL + 1)); }

PIN_DIR=/sys/fs/bpf/xsbench-$LAB_ID
cleanup() {
	set +e
	in_ns "$NS_SRV" nft delete table inet xsbench 2>/dev/null
	lab_down
	rm -rf "$PIN_DIR"
	rm -rf "$TMP"
	if [ "$SMOKE" = 1 ]; then echo "$PASS passed, $FAIL failed"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM


# ---- the lab ------------------------------------------------------------------
bench_lab_up || { bad "lab setup"; exit 1; }
in_ns "$NS_SRV" sysctl -qw net.core.somaxconn=$BACKLOG

# All non-xdpsyn defences run with a pass-through XDP program on the server's
# interface: native XDP on veth copies every frame from the bridge into a page
# first, a lab cost xdpsyn cannot avoid; so every defence pays it.
xdp_pass_on()  { ip -n "$NS_SRV" link set dev "$SRV_IF" xdpdrv obj "$ROOT/build/xdp_pass.bpf.o" sec xdp; }
xdp_pass_off() { ip -n "$NS_SRV" link set dev "$SRV_IF" xdpdrv off; }

defence_up() {
	case $1 in
	none)    srv sysctl -qw net.ipv4.tcp_syncookies=0 && xdp_pass_on ;;
	cookies) srv sysctl -qw net.ipv4.tcp_syncookies=2 && xdp_pass_on ;;
	nft)
		srv sysctl -qw net.ipv4.tcp_syncookies=1 && xdp_pass_on || return 1
		srv nft -f - <<EOF || return 1
table inet xsbench {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		tcp dport $PORT tcp flags syn notrack
	}
	chain in {
		type filter hook input priority filter; policy accept;
		tcp dport $PORT ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
		ct state invalid drop
	}
}
EOF
		srv sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
		;;
	xdpsyn)
		srv sysctl -qw net.ipv4.tcp_syncookies=1 &&
			srv "$XDPSYN" attach "$SRV_IF" --ports $PORT >"$TMP/attach.out" 2>&1 ||
			{ cat "$TMP/attach.out" >&2; return 1; }
		;;
	xdp-floor)
		srv sysctl -qw net.ipv4.tcp_syncookies=1 &&
			bpftool prog loadall "$ROOT/build/floors.bpf.o" "$PIN_DIR" &&
			srv bpftool net attach xdpdrv pinned "$PIN_DIR/floor_synack" dev "$SRV_IF"
		;;
	esac
}
defence_down() {
	case $1 in
	none|cookies) xdp_pass_off ;;
	nft) srv nft delete table inet xsbench; xdp_pass_off ;;
	xdpsyn) srv "$XDPSYN" detach "$SRV_IF" >/dev/null ;;
	xdp-floor) srv bpftool net detach xdpdrv dev "$SRV_IF"; rm -rf "$PIN_DIR" ;;
	esac
	srv sysctl -qw net.ipv4.tcp_syncookies=1
}


# ---- one measurement -----------------------------------------------------------
TSV=$TMP/flood.tsv
COLS="defence rate offered offered_pps srv_rx sw_ring_drop srv_tx srv_tx_drop synacks legit_ok legit_failed success_pct p50_ms p99_ms napi_cpu_pct core1_sys_pct core1_user_pct machine_busy_pct us_per_syn idle_core1_pct attempts fail_reasons"
tr ' ' '\t' <<<"$COLS" >"$TSV"
IDLE_MAX=10 # % of core 1 busy with no flood: above, something else runs there

# measure_one DEFENCE RATE: one flood; sets ROW (tab-separated, no attempts)
measure_one() {
	local def=$1 rate=$2 rate_arg count flood_pid legit_pid
	local base0 base1 c0 c1 m0 m1 t0 t1 rx0 rx1 rxa rxb dr0 dr1 tx0 tx1 td0 td1 sa0 sa1
	if [ "$rate" = max ]; then
		rate_arg=0 count=$((MAX_PPS_CAP * ${SECS%.*}))
	else
		rate_arg=$rate count=$(awk -v r="$rate" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
	fi
	ROW=
	server_restart || { echo "tcpecho server did not start"; return 1; }
	# the server interface's NAPI exists while an XDP program is attached;
	# it is made again when xdpsyn replaces xdp_pass: (re)thread and pin it
	thread_pin "$NS_SRV" "$SRV_IF" $SRV_CPU || return 1
	pin_napi "$SW_SRV" $ATK_CPU || { echo "no NAPI thread for $SW_SRV"; return 1; }
	# what core 1 does with no flood (other load on the machine shows here)
	base0=$(cpu_line $SRV_CPU); sleep 0.5; base1=$(cpu_line $SRV_CPU)

	rx0=$(link_stat "$NS_SRV" "$SRV_IF" rx packets)
	tx0=$(link_stat "$NS_SW" "$SW_SRV" rx packets)
	td0=$(link_stat "$NS_SRV" "$SRV_IF" tx dropped)
	dr0=$(link_stat "$NS_SW" "$SW_SRV" tx dropped)
	sa0=$(link_stat "$NS_ATK" eth0 rx packets)
	in_ns "$NS_ATK" taskset -c $ATK_CPU "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$SRV_MAC" \
		--dport $PORT --src-net "$FLOOD_NET4" --rate $rate_arg --count $count --duration "$SECS" -q \
		>"$TMP/flood.out" 2>&1 &
	flood_pid=$!
	LAB_PIDS+=("$flood_pid") # stopped by the EXIT trap if interrupted
	sleep "$WIN_START"
	c0=$(cpu_line $SRV_CPU); m0=$(all_cpu_line); t0=$(napi_ns "$SRV_IF")
	rxa=$(link_stat "$NS_SRV" "$SRV_IF" rx packets)
	in_ns "$NS_CLI" taskset -c $ATK_CPU "$ROOT/build/bench_legit" $SRV4 $PORT -n $LEGIT_N \
		-s $LEGIT_SPREAD_MS -t $LEGIT_TIMEOUT_MS -b 100 >"$TMP/legit.out" 2>&1 &
	legit_pid=$!
	LAB_PIDS+=("$legit_pid")
	sleep "$WIN_LEN"
	c1=$(cpu_line $SRV_CPU); m1=$(all_cpu_line); t1=$(napi_ns "$SRV_IF")
	rxb=$(link_stat "$NS_SRV" "$SRV_IF" rx packets)
	wait_bg $legit_pid
	wait_bg $flood_pid
	sleep 0.3 # SYN-ACKs in flight
	rx1=$(link_stat "$NS_SRV" "$SRV_IF" rx packets)
	tx1=$(link_stat "$NS_SW" "$SW_SRV" rx packets)
	td1=$(link_stat "$NS_SRV" "$SRV_IF" tx dropped)
	dr1=$(link_stat "$NS_SW" "$SW_SRV" tx dropped)
	sa1=$(link_stat "$NS_ATK" eth0 rx packets)

	local sent pps legit lok lfail p50 p99 reasons idle core mach
	flood_results "$TMP/flood.out" "$TMP/legit.out" || return 1
	reasons=$(grep -o 'timeout=.*' <<<"$legit" | tr ' ' ',')
	idle=$(cpu_share "$base0" "$base1" | awk '{ print $1 + $2 }')
	core=$(cpu_share "$c0" "$c1")
	mach=$(cpu_share "$m0" "$m1" | awk '{ print $1 + $2 }')
	ROW=$(awk -v def="$def" -v rate="$rate" -v sent="$sent" -v pps="$pps" \
		-v rxd=$((rx1 - rx0)) -v drop=$((dr1 - dr0)) -v stx=$((tx1 - tx0)) -v std=$((td1 - td0)) \
		-v sa=$((sa1 - sa0)) -v lok="$lok" -v lfail="$lfail" -v p50="$p50" -v p99="$p99" \
		-v tns=$((t1 - t0)) -v win="$WIN_LEN" -v core="$core" -v mach="$mach" -v wrx=$((rxb - rxa)) \
		-v idle="$idle" -v why="$reasons" 'BEGIN {
		split(core, c, " ");
		napi = 100 * tns / (win * 1e9);
		us = wrx > 0 ? tns / 1000 / wrx : 0;
		printf "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.1f\t%s",
			def, rate, sent, pps, rxd, drop, stx, std, sa, lok, lfail, 100 * lok / (lok + lfail),
			p50, p99, napi, c[2], c[1], mach, us, idle, why }')
	return 0
}

# run_one DEFENCE RATE: measure, again (up to 3 tries) when core 1 was busy
# with something else just before the flood; appends the row
run_one() {
	local def=$1 rate=$2 try idle
	for try in 1 2 3; do
		if ! measure_one "$def" "$rate" >"$TMP/why" 2>&1; then
			bad "$def $rate: $(cat "$TMP/why")"
			return 1
		fi
		idle=$(cut -f20 <<<"$ROW")
		awk -v i="$idle" -v m=$IDLE_MAX 'BEGIN { exit !(i <= m) }' && break
		echo "  ($def $rate: core 1 was ${idle}% busy before the flood: other load; again in 5 s)"
		sleep 5
	done
	awk -F'\t' -v OFS='\t' -v t="$try" '{ $21 = t "\t" $21; print }' <<<"$ROW" >>"$TSV"
	tail -n 1 "$TSV" | awk -F'\t' '{ printf "  %-9s %-6s offered %7d (%6d pps) srv rx %7d tx %7d synacks@atk %7d | legit %3d/%d %5.1f%% p50 %s p99 %s ms | napi %5.1f%% core1 sys %5.1f%% %s us/SYN (idle %s%%)\n",
		$1, $2, $3, $4, $5, $7, $9, $10, $10 + $11, $12, $13, $14, $15, $16, $19, $20 }'
}

echo "flood lab $LAB_ID: defences [$DEFENCES], rates [$RATES], ${SECS} s floods, $LEGIT_N legit connections each"
for def in $DEFENCES; do
	if ! defence_up "$def"; then
		bad "$def: set-up failed"
		continue
	fi
	for rate in $RATES; do
		run_one "$def" "$rate"
	done
	defence_down "$def"
done

# ---- checks and outputs -------------------------------------------------------------
rows=$(($(wc -l <"$TSV") - 1))
want=$(($(wc -w <<<"$DEFENCES") * $(wc -w <<<"$RATES")))
[ "$rows" -eq "$want" ] && ok "all $want floods ran" || bad "$rows of $want floods ran"
awk -F'\t' 'NR > 1 && ($3 <= 0 || $5 <= 0 || $15 <= 0) { bad = 1 } END { exit bad }' "$TSV" &&
	ok "every flood offered SYNs that reached the server" || bad "a flood offered nothing"
if grep -qw xdpsyn <<<"$DEFENCES"; then
	awk -F'\t' '$1 == "xdpsyn" && ($12 != 100.0 || $9 <= 0) { bad = 1 } END { exit bad }' "$TSV" &&
		ok "xdpsyn: 100% legit success and SYN-ACKs returned at every rate" ||
		bad "xdpsyn: legit success below 100% or no SYN-ACKs: $(awk -F'\t' '$1 == "xdpsyn" { print $2 ": " $12 "% synacks " $9 }' "$TSV" | tr '\n' ' ')"
fi
mkdir -p "$OUT"
cp "$TSV" "$OUT/flood.tsv"
{
	echo "LAB_ID=$LAB_ID"
	echo "SECS=$SECS"
	echo "LEGIT='$LEGIT_N connections, started evenly over $LEGIT_SPREAD_MS ms from ${WIN_START} s into the flood, $LEGIT_TIMEOUT_MS ms each for connect + 100-byte echo'"
	echo "WINDOW='CPU measured from ${WIN_START} s to $(awk -v a="$WIN_START" -v b="$WIN_LEN" 'BEGIN { print a + b }') s of each flood'"
	echo "BACKLOG=$BACKLOG"
	echo "SYNFLOOD_CMD='synflood -i eth0 --dst-ip $SRV4 --dst-mac SRV_MAC --dport $PORT --src-net $FLOOD_NET4 --rate RATE --count RATE*$SECS --duration $SECS -q (max: --rate 0 --count $((MAX_PPS_CAP * ${SECS%.*})))'"
	echo "LEGIT_CMD='bench_legit $SRV4 $PORT -n $LEGIT_N -s $LEGIT_SPREAD_MS -t $LEGIT_TIMEOUT_MS -b 100'"
} >"$OUT/flood.env"
[ "$FAIL" -eq 0 ]
