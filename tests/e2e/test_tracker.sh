#!/usr/bin/env bash
# End-to-end tests of the handshake tracker and the CLI that reads it:
# `xdpsyn flows`, `flows --follow`, `top`, `stats` (-j, --watch,
# --prometheus), `exporter`, and the attach/set options of the tracker, in
# the lab of tests/e2e/lib.sh. Every figure the CLI shows is checked
# against an independent source: the client's SYNs captured by tcpdump, the
# server's TCP_INFO, the per-CPU map values read with bpftool, the flood's
# own count. Ends with "N passed, N failed"; exit 1 on any failure.
# Needs root; without it says SKIP and exits 77.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: tracker tests need root (network namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
source tests/e2e/lib.sh
PORT=8080
NCONN=20
FLOOD_NET=10.201.200.0/24
FLOOD_COUNT=50000
# the counters the header defines (its X-macro lines), read independently
NCOUNTERS=$(grep -cE '^[[:space:]]*X\([A-Z0-9_]+,' include/xdpsyn.h)
PASS=0 FAIL=0
ok()   { echo "ok   $1"; PASS=$((PASS + 1)); }
bad()  { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
# check NAME CONDITION-EXIT-STATUS DETAIL
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

TMP=$(mktemp -d)
BGPIDS=()
finish() {
	local p
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	lab_down
	rm -rf "$TMP"
	echo "$PASS passed, $FAIL failed"
}
trap finish EXIT
trap 'exit 1' INT TERM

srv() { in_ns "$NS_SRV" "$@"; }
# in the background, with $! the command's own pid (nsenter execs it)
srv_bg() { nsenter --net=/var/run/netns/"$NS_SRV" "$@" & }
cli() { in_ns "$NS_CLI" "$@"; }
x() { srv "$XDPSYN" "$@"; }
# wait_for FILE REGEX SECS: until a line of FILE matches
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

lab_up || { bad "lab setup" "could not build the namespaces"; exit 1; }
OPTLOG=$TMP/opts.log
lab_bg "$NS_SRV" "$ROOT/build/tcpecho" serve $PORT "$OPTLOG"
sleep 0.3
SRV_MAC=$(srv ip -br link show dev "$SRV_IF" | awk '{print $3}')
PIN=/sys/fs/bpf/xdpsyn/$SRV_IF

out=$(x attach "$SRV_IF" --ports $PORT 2>&1)
check "attach $SRV_IF --ports $PORT" $? "$out"
missing=
for m in xdpsyn_flows xdpsyn_events xdpsyn_cms xdpsyn_top; do
	[ -e "$PIN/$m" ] || missing+=" $m"
done
[ -z "$missing" ]
check "attach pins the tracker's maps (flows, events, cms, top)" $? "missing:$missing"
# The maps each program uses are the pinned ones (the TC object reuses the
# XDP object's maps): XDP writes stats, flows, cms, top; TC stats, flows and
# the ring buffer.
xdp_prog=$(bpftool prog show pinned "$PIN/prog_xdp" -j | jq .id)
xdp_maps=$(bpftool prog show id "$xdp_prog" -j | jq -c .map_ids)
tc_maps=$(bpftool prog show pinned "$PIN/prog_tc" -j | jq -c .map_ids)
map_id() { bpftool map show pinned "$PIN/$1" -j | jq .id; }
uses() { jq -e --argjson id "$(map_id "$2")" 'index($id) != null' <<<"$1" >/dev/null; }
uses "$xdp_maps" xdpsyn_stats && uses "$xdp_maps" xdpsyn_flows && uses "$xdp_maps" xdpsyn_cms &&
	uses "$xdp_maps" xdpsyn_top && uses "$tc_maps" xdpsyn_stats &&
	uses "$tc_maps" xdpsyn_flows && uses "$tc_maps" xdpsyn_events
check "the XDP and TC programs use the pinned maps" $? "xdp $xdp_maps tc $tc_maps"

# -- 20 real connections: flows -j against the client's own SYNs ------------
# A token bucket on the client's egress holds its final ACK a few ms, so the
# handshake RTT is measurable (on bare veth it is below the 16 us tick).
cli tc qdisc add dev eth0 root tbf rate 200kbit burst 80 latency 1s
CAP=$TMP/syn.pcap
nsenter --net=/var/run/netns/"$NS_CLI" timeout 60 tcpdump -i eth0 -nn -U --immediate-mode -w "$CAP" \
	"tcp[tcpflags] == tcp-syn and dst port $PORT" 2>/dev/null &
tp=$!
BGPIDS+=($tp)
sleep 1
: >"$OPTLOG"
out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n $NCONN -b 10 2>&1)
check "$NCONN IPv4 connections through xdpsyn" $? "$out"
sleep 0.5
kill -TERM $tp 2>/dev/null; wait $tp 2>/dev/null
BGPIDS=()
cli tc qdisc del dev eth0 root
want_ports=$(tcpdump -r "$CAP" -nn 2>/dev/null | awk '{print $3}' | awk -F. '{print $NF}' | sort -n | tr '\n' ' ')
F=$(x flows "$SRV_IF" -j)
check "flows -j parses" $? "$F"
got_ports=$(jq -r '.flows[].sport' <<<"$F" | sort -n | tr '\n' ' ')
n=$(jq '.flows | length' <<<"$F")
[ "$n" = $NCONN ] && [ "$(jq .count <<<"$F")" = $NCONN ] && [ -n "$want_ports" ] &&
	[ "$got_ports" = "$want_ports" ]
check "flows -j: exactly the $NCONN flows whose SYNs the client sent (by source port)" $? \
	"n=$n flows: $got_ports client SYNs: $want_ports"
jq -e --arg c $CLI4 --arg s $SRV4 --argjson p $PORT \
	'all(.flows[]; .saddr == $c and .daddr == $s and .dport == $p and .family == 4)' \
	<<<"$F" >/dev/null
check "flows -j: addresses and port are the client's and the server's" $? \
	"$(jq -c '[.flows[] | [.saddr, .daddr, .dport]] | unique' <<<"$F")"
jq -e 'all(.flows[]; .ts == true and .rtt_us != null and .rtt_us > 0)' <<<"$F" >/dev/null
check "flows -j: every flow has timestamps and an RTT > 0 ($(jq -c '[.flows[].rtt_us] | [min, max]' <<<"$F") us)" $? \
	"$(jq -c '[.flows[] | [.ts, .rtt_us]]' <<<"$F")"
# What the server's kernel negotiated (tcpecho logs TCP_INFO per accept):
# "opts=ts,sack,wscale, wscale=SND,RCV mss=N", the same line for all.
nlog=$(sort -u "$OPTLOG" | wc -l)
read -r opts wsc _ < <(head -n 1 "$OPTLOG")
snd=${wsc#wscale=}; snd=${snd%,*}
rcv=${wsc#*,}
mss4=$(x status "$SRV_IF" -j | jq .mss4)
[ "$nlog" = 1 ] && [[ $opts == *ts,* ]] && [[ $opts == *sack,* ]] && [[ $opts == *wscale,* ]] &&
jq -e --argjson snd "$snd" --argjson rcv "$rcv" --argjson mss "$mss4" \
	'all(.flows[]; .sack and .ts and .wscale and .client_wscale == $snd and
	     .server_wscale == $rcv and .mss == $mss and .handoff and (.ecn | not))' \
	<<<"$F" >/dev/null
check "flows -j: mss $mss4, wscale $snd/$rcv, sack, ts as the server's socket has them, handed off" $? \
	"server: $(sort -u "$OPTLOG" | tr '\n' ' ') flows: $(jq -c '[.flows[] | [.mss, .client_wscale, .server_wscale, .sack, .ts, .handoff]] | unique' <<<"$F")"
out=$(x flows "$SRV_IF")
[ "$(grep -c "^[0-9:.]* $CLI4:[0-9]* *$SRV4:$PORT " <<<"$out")" = $NCONN ] &&
	head -n 2 <<<"$out" | grep -q 'TIME *SADDR:SPORT *DADDR:DPORT *STATE *SYN>SA(ms) *SA>ACK(ms) *RETX *MSS *WS(c/s) *SACK *TS *ECN *HANDOFF'
check "flows (text): header and one line per flow" $? "$out"
out=$(x flows "$SRV_IF" --sort rtt --limit 3 -j)
jq -e --argjson max "$(jq '[.flows[].rtt_us] | max' <<<"$F")" \
	'(.flows | length) == 3 and .flows[0].rtt_us == $max and
	 ([.flows[].rtt_us] | . == (sort | reverse))' <<<"$out" >/dev/null
check "flows --sort rtt --limit 3: the 3 slowest, slowest first" $? "$out"

# -- flows --follow: a new handshake shows within 2 s -------------------------
FOL=$TMP/follow.out
srv_bg "$XDPSYN" flows "$SRV_IF" --follow >"$FOL" 2>&1
fp=$!
BGPIDS+=($fp)
if wait_for "$FOL" '^TIME' 3; then
	t0=$(date +%s%N)
	cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 1 -b 10 -q >/dev/null 2>&1
	wait_for "$FOL" " $CLI4:[0-9]+ +$SRV4:$PORT " 2; rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "flows --follow prints a new connection within 2 s (${ms} ms)" $rc "$(cat "$FOL")"
else
	bad "flows --follow prints a new connection within 2 s" "no header: $(cat "$FOL")"
fi
kill -INT $fp; wait $fp; rc=$?
BGPIDS=()
check "flows --follow: Ctrl-C exits 0" $rc "rc=$rc"

# -- a spoofed flood from one /24: top -j -------------------------------------
before_syn=$(x stats "$SRV_IF" -j | jq .counters.syn)
out=$(in_ns "$NS_ATK" "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$SRV_MAC" \
	--dport $PORT --src-net $FLOOD_NET --count $FLOOD_COUNT --duration 10 -q 2>&1)
check "flood: $FLOOD_COUNT spoofed SYNs from $FLOOD_NET ($out)" $? "$out"
sleep 0.5
after_syn=$(x stats "$SRV_IF" -j | jq .counters.syn)
T=$(x top "$SRV_IF" -j)
check "top -j parses" $? "$T"
flood_syns=$((after_syn - before_syn))
jq -e --arg p "$FLOOD_NET" --argjson n "$flood_syns" \
	'.sources[0].prefix == $p and .sources[0].completed == 0 and
	 .sources[0].syns >= $n and .sources[0].ratio == 0' <<<"$T" >/dev/null
check "top -j: $FLOOD_NET first, $flood_syns SYNs counted (estimate $(jq '.sources[0].syns' <<<"$T")), 0 completed" $? \
	"$(jq -c '.sources' <<<"$T")"
legit=$(x stats "$SRV_IF" -j | jq .counters.ack_valid)
jq -e --argjson n "$legit" \
	'[.sources[] | select(.prefix == "10.201.0.0/24")][0] |
	 .completed == $n and .completed >= 21 and .syns >= .completed' <<<"$T" >/dev/null
check "top -j: the client's 10.201.0.0/24 with its $legit completions" $? "$(jq -c '.sources' <<<"$T")"
out=$(x top "$SRV_IF")
sed -n 3p <<<"$out" | grep -Eq "^10\.201\.200\.0/24 +([0-9]+) +0 +\1 +0\.000 +[0-9]+s ago$" &&
	sed -n 2p <<<"$out" | grep -q 'PREFIX *SYNS *COMPLETED *INCOMPLETE *RATIO *LAST SEEN'
check "top (text): columns, the flood's prefix first" $? "$out"

# -- stats -j against the per-CPU map values (bpftool) ------------------------
# A stray frame (IPv6 ND) between the two reads can move rx/not_ip: retry.
stats_vs_bpftool() {
	local s b
	s=$(x stats "$SRV_IF" -j | jq -c '[.counters[]]')
	b=$(bpftool map dump pinned "$PIN/xdpsyn_stats" -j |
		jq -c '[.[0].formatted.values[].value.cnt] | transpose | map(add)')
	[ -n "$s" ] && [ "$s" = "$b" ] && return 0
	echo "stats: $s bpftool: $b"
	return 1
}
for try in 1 2 3; do detail=$(stats_vs_bpftool) && break; sleep 0.2; done
check "stats -j: every counter equals the sum of its per-CPU values (bpftool)" $? "$detail"
S=$(x stats "$SRV_IF" -j)
jq -e --argjson n "$NCOUNTERS" '(.counters | length) == $n and
       (.completed_ratio / ((.counters.ack_valid + .counters.track_established) / .counters.syn) - 1 | . * . < 1e-16) and
       (.handoff_errors | type) == "array" and .ifindex > 0' <<<"$S" >/dev/null
check "stats -j: completed_ratio = (ack_valid + track_established) / syn, handoff_errors list" $? "$S"
herr=$(bpftool map dump pinned "$PIN/xdpsyn_handoff_err" -j |
	jq -c '[.[].formatted | {errno: .key, count: ([.values[].value] | add)} | select(.count > 0)]')
[ "$herr" = "$(jq -c '[.handoff_errors[] | {errno, count}]' <<<"$S")" ]
check "stats -j: handoff errors by errno as the errno map holds them ($herr)" $? \
	"map: $herr stats: $(jq -c .handoff_errors <<<"$S")"
out=$(x stats "$SRV_IF" --rate -j)
jq -e --argjson n "$NCOUNTERS" '.interval_s > 0.9 and .interval_s < 2 and (.rates | length) == $n' \
	<<<"$out" >/dev/null
check "stats --rate -j: rates over a ~1 s interval" $? "$out"

# -- stats --watch: a redrawn screen, Ctrl-C exits 0 --------------------------
timeout --preserve-status -s INT 3 nsenter --net=/var/run/netns/"$NS_SRV" \
	"$XDPSYN" stats "$SRV_IF" --watch 1 >"$TMP/watch.out" 2>&1; rc=$?
frames=$(grep -c '^xdpsyn stats: every 1 s' "$TMP/watch.out")
[ $rc -eq 0 ] && [ "$frames" -ge 2 ] && grep -Eq '^  syn +[0-9]+ +[0-9.]+$' "$TMP/watch.out"
check "stats --watch 1 under timeout -s INT 3: $frames frames with rates, exit 0" $? \
	"rc=$rc $(head -c 600 "$TMP/watch.out")"

# -- exporter -------------------------------------------------------------------
SAMPLE_RE='^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|[+-]Inf|NaN)( -?[0-9]+)?$'
COMMENT_RE='^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$'
prom_check() { # prom_check FILE: every line a sample or a HELP/TYPE comment
	local badl
	badl=$(grep -Ev "$SAMPLE_RE" "$1" | grep -Ev "$COMMENT_RE")
	[ -s "$1" ] && [ -z "$badl" ] && return 0
	echo "$badl" | head -n 5
	return 1
}
HPORT=$((20000 + RANDOM % 20000))
EXP=$TMP/exporter.out
srv_bg "$XDPSYN" exporter --listen 127.0.0.1:$HPORT >"$EXP" 2>&1
ep=$!
BGPIDS+=($ep)
wait_for "$EXP" 'serving http://127\.0\.0\.1:[0-9]+/metrics' 3
check "exporter --listen 127.0.0.1:$HPORT starts" $? "$(cat "$EXP")"
M=$TMP/metrics.txt
code=$(srv curl -sS -o "$M" -w '%{http_code} %{content_type}' "http://127.0.0.1:$HPORT/metrics")
[[ $code == "200 text/plain; version=0.0.4"* ]]
check "GET /metrics: 200, text/plain; version=0.0.4 ($code)" $? "$code"
detail=$(prom_check "$M")
check "every line of /metrics is a sample or HELP/TYPE in the text format" $? "$detail"
if [ -x "$ROOT/build/promtool" ]; then
	detail=$("$ROOT/build/promtool" check metrics <"$M" 2>&1)
	check "promtool check metrics accepts /metrics" $? "$detail"
else
	bad "promtool check metrics accepts /metrics" "build/promtool missing (make builds it)"
fi
exporter_vs_stats() {
	local s c v miss=
	srv curl -sS -o "$M" "http://127.0.0.1:$HPORT/metrics" || return 1
	s=$(x stats "$SRV_IF" -j)
	for c in $(jq -r '.counters | keys_unsorted[]' <<<"$s"); do
		v=$(grep -E "^xdpsyn_${c}_total\{ifname=\"$SRV_IF\",ifindex=\"[0-9]+\"\} " "$M" | awk '{print $2}')
		[ "$v" = "$(jq ".counters.$c" <<<"$s")" ] || miss+=" $c:$v/$(jq ".counters.$c" <<<"$s")"
	done
	[ -z "$miss" ] && return 0
	echo "exporter/stats differ:$miss"
	return 1
}
for try in 1 2 3; do detail=$(exporter_vs_stats) && break; sleep 0.2; done
check "exporter: xdpsyn_<counter>_total equal stats -j for all $(x stats "$SRV_IF" -j | jq '.counters | length') counters" $? "$detail"
nflows=$(x flows "$SRV_IF" -j | jq .count)
nts=$(x flows "$SRV_IF" -j | jq '[.flows[] | select(.ts)] | length')
grep -q "^xdpsyn_flows{ifname=\"$SRV_IF\",ifindex=\"[0-9]*\"} $nflows$" "$M" &&
	grep -q "^xdpsyn_handshake_rtt_seconds_count{ifname=\"$SRV_IF\",ifindex=\"[0-9]*\"} $nts$" "$M" &&
	grep -q "^xdpsyn_handshake_rtt_seconds_bucket{ifname=\"$SRV_IF\",ifindex=\"[0-9]*\",le=\"+Inf\"} $nts$" "$M" &&
	grep -q '^# TYPE xdpsyn_handshake_rtt_seconds histogram$' "$M" &&
	grep -q '^# TYPE xdpsyn_flows gauge$' "$M"
check "exporter: xdpsyn_flows $nflows, RTT histogram of the $nts records with timestamps" $? \
	"$(grep -E '^xdpsyn_(flows|handshake)' "$M")"
# the hand-off's gauges: ready 1 and the sysctls' values, then 0 while
# net.ipv4.tcp_syncookies is 0
sc_lines() { grep -E "^xdpsyn_handoff_(ready|sysctl)\{ifname=\"$SRV_IF\"" "$1"; }
want="xdpsyn_handoff_ready 1"
for k in tcp_syncookies tcp_timestamps tcp_sack tcp_window_scaling tcp_ecn; do
	want+=" net.ipv4.$k $(srv sysctl -n net.ipv4.$k)"
done
got=$(sc_lines "$M" | sed -E 's/^(xdpsyn_handoff_ready)\{[^}]*\} /\1 /; s/^xdpsyn_handoff_sysctl\{.*sysctl="([^"]*)"\} /\1 /' | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] && grep -q '^# TYPE xdpsyn_handoff_ready gauge$' "$M"
check "exporter: xdpsyn_handoff_ready 1 and xdpsyn_handoff_sysctl of the 5 sysctls ($got)" $? "got '$got' want '$want'"
srv sysctl -qw net.ipv4.tcp_syncookies=0
srv curl -sS -o "$M" "http://127.0.0.1:$HPORT/metrics"
srv sysctl -qw net.ipv4.tcp_syncookies=1
sc_lines "$M" | grep -q '^xdpsyn_handoff_ready{.*} 0$' &&
	sc_lines "$M" | grep -q 'sysctl="net.ipv4.tcp_syncookies"} 0$'
check "exporter: xdpsyn_handoff_ready 0 while net.ipv4.tcp_syncookies is 0" $? "$(sc_lines "$M")"
code=$(srv curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/")
[ "$code" = 404 ]
check "exporter: GET / is 404" $? "$code"
kill -TERM $ep; wait $ep; rc=$?
BGPIDS=()
check "exporter: SIGTERM exits 0" $rc "rc=$rc $(cat "$EXP")"
x stats "$SRV_IF" --prometheus >"$TMP/prom.txt"; rc=$?
detail=$(prom_check "$TMP/prom.txt")
[ $rc -eq 0 ] && grep -q "^xdpsyn_syn_total{ifname=\"$SRV_IF\"" "$TMP/prom.txt"
check "stats --prometheus: the same text format, once ($detail)" $? "rc=$rc $detail"

# -- attach --flows-max / --top-plen4, set top-plen4 live, detach --------------
out=$(x detach "$SRV_IF" 2>&1)
[ $? -eq 0 ] && [ ! -e "$PIN" ]
check "detach removes every pin, the tracker's too" $? "$out $(ls "$PIN" 2>&1)"
out=$(x attach "$SRV_IF" --ports $PORT --flows-max 1000 --top-plen4 16 --top-plen6 48 2>&1)
check "attach --flows-max 1000 --top-plen4 16 --top-plen6 48" $? "$out"
max=$(bpftool map show pinned "$PIN/xdpsyn_flows" -j | jq .max_entries)
st=$(x status "$SRV_IF" -j | jq -c '[.flows_max, .top_plen4, .top_plen6]')
[ "$max" = 1000 ] && [ "$st" = "[1000,16,48]" ]
check "flows map of 1000 entries, prefixes /16 and /48 (status: $st)" $? "max=$max status=$st"
out=$(x set "$SRV_IF" top-plen4=20 2>&1)
check "set top-plen4=20" $? "$out"
in_ns "$NS_ATK" "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$SRV_MAC" \
	--dport $PORT --src-net $FLOOD_NET --count 2000 --duration 5 -q >/dev/null 2>&1
sleep 0.3
T=$(x top "$SRV_IF" -j)
jq -e '.top_plen4 == 20 and .sources[0].prefix == "10.201.192.0/20" and .sources[0].syns >= 1900' \
	<<<"$T" >/dev/null
check "top after set top-plen4=20: the flood counted under 10.201.192.0/20" $? "$T"
out=$(x set "$SRV_IF" top-plen4=33 2>&1); rc=$?
[ $rc -eq 2 ]
check "set top-plen4=33 is refused (exit 2)" $? "rc=$rc $out"
out=$(x detach "$SRV_IF" 2>&1)
check "detach" $? "$out"
[ $FAIL -eq 0 ]
