#!/usr/bin/env bash
# Gateway mode (issue 16), judged against the kernel alone: every scenario
# runs twice in bench/gwlab.sh's lab (client and attacker behind a switch,
# a forwarding gateway with two interfaces, the server behind it):
#   (a) ROUTED: the gateway forwards, no xdpsyn (xdp_pass on its interfaces,
#       as the lab has it);
#   (b) GATEWAY: xdpsyn attached to the gateway's client-side interface in
#       gateway mode (`attach GW_IFC --ports ... --gateway GW_IFS`), native
#       XDP; (a)'s xdp_pass is taken off the gateway's two interfaces first
#       (xdpsyn attaches through libxdp), and stays on the peers (XDP_TX and
#       XDP_REDIRECT on veth need an XDP program on the peer: DESIGN.md).
# and each check compares (b) with (a) using real programs: curl and the
# Python servers and clients of the "do no harm" suite (noharm_server.py,
# noharm_client.py) and gw_peer.py (TCP_INFO of both ends, bulk transfers
# with SHA-256 at both ends, server-speaks-first, a long-lived echo).
#
# Cases (v4 and v6 each; the TABLE below runs them in order in (a), then in
# (b); a check prints "ok   NAME" or "FAIL NAME: why"):
#   1 http        curl, N requests: same outcomes and bytes (sha256), same
#                 PassiveOpens, no added retransmission (client and server)
#   2 opts        16 client settings of tcp_timestamps x tcp_sack x
#                 tcp_window_scaling x tcp_ecn: the server's accepted socket
#                 (its TCP_INFO) negotiated what a routed one does; the MSS
#                 the documented cookie value
#   3 data        50 MB each way, loss and reordering on the end hosts,
#                 byte-exact at both ends, v4 and v6 in parallel
#   4 flood       bounded spoofed SYN flood at the server: the server sees
#                 none of it in (b), legit connections 100%
#     forged      10^5 forged ACKs: no connection at the server, counted
#   5 close       states of closed connections removed after --gw-close
#     idle        an idle connection's state removed after --gw-idle
#                 (GW_EXPIRED), in an attach of its own
#     reattach    detach + attach while a connection exchanges data: it
#                 goes on, bytes intact, never reset
#   6 closed      a protected port without a listener: (a) refused, (b)
#                 reset (inherent to a SYN proxy: the client's connect
#                 succeeds first), never a hang
#     timewait    the same client port reconnecting right after close
#     firstdata   the request sent right after connect: no RTO wait
#     banner      server speaks first: time to banner (b) about (a)
#     unprotected a port not in --ports: untouched, same counters
#   7 adopt       a connection opened before attach keeps working
#   generic       http again with --mode generic (a short pass)
#
#   generic       http again with --mode generic, and the flood
#
# Every check can fail; the comment above each says what breaks it. With
# the stub data path (every packet passed to the kernel; or
# GWTEST_FAKE_ATTACH=1, which runs (b) without attaching anything) 18
# checks fail: the floods (SYN v4/v6, generic-mode SYN, forged ACKs v4/v6
# and their counters: 4), servers learned (2), gw_server_refused (2), the
# state table kept after detach, close (3), idle (2), gw_adopted.
#
# Usage: tests/e2e/test_gateway.sh [CASE...] (default all; 'adopt', 'close'
# and 'idle' also run when selected alone). XDPSYN=path picks the binary.
# Knobs: GWTEST_DATA_MB (50); GWTEST_LOSS (100) and GWTEST_REORDER (300),
# per 10000 segments, GWTEST_SLOW_RATE (20mbit): the impairment of case 3;
# GWTEST_GENERIC=0 skips the generic pass; GWTEST_TIMES=1 times each case.
# Diagnosis only (a run with it is not the suite's verdict):
# GWTEST_TX_CSUM_OFF=1 turns tx checksum offload off on the end hosts
# (frames then carry full checksums, never partial ones).
#
# Attaches: case 7 attaches with the default --gw-adopt (300 s: within it a
# client segment without state passes untouched, README "Limits"); the
# other cases run in an attach with --gw-adopt 0 (every client segment
# without state must then be a valid final ACK or is dropped: what the
# forged-ACK case checks), --gw-close 2 (case 5); case 5's idle check in
# one with --gw-idle 3.
# Ends with "N passed, N failed"; exit 1 on any failure; 77 without root.
#
# Network rules: only gwlab.sh's namespaces (per-run names), 10.201.0.0/16
# and fd00:201::/64, no default route; floods bounded by --count and
# --duration; the EXIT trap removes what this created (the lab, our nft
# table, the loss emulation, xdpsyn's pins for our interface) and stops only our own
# processes (by pid).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: gateway tests need root (network namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
XDPSYN=${XDPSYN:-$ROOT/build/xdpsyn}
GWLAB_ID=t$$
source tests/e2e/lib.sh    # in_ns, lab_bg, LAB_PIDS (its own lab is not made)
source bench/benchlab.sh   # stop_bg, wait_bg
source bench/gwlab.sh
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
PASS=0 FAIL=0
ok()   { echo "ok   $1"; PASS=$((PASS + 1)); }
bad()  { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
# check NAME STATUS DETAIL: take the condition's status into r first (a
# $(...) in NAME or DETAIL would reset $? before check sees it)
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }
same() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "gateway: $2 | routed: $3"; fi; }
T0=$SECONDS
TMPD=$(mktemp -d /tmp/xs-gwtest.XXXXXX)
FAKE=${GWTEST_FAKE_ATTACH:-0}
DATA_MB=${GWTEST_DATA_MB:-50}
PIN=/sys/fs/bpf/xdpsyn/$GW_IFC
ATTACHED=0

# Ports on the server, all protected except P_OPEN: HTTP/1.0 closing first
# (noharm_server.py), gw_peer.py's banner and service ports, one with no
# listener; P_OPEN, another noharm_server.py, is left out of --ports.
P_HTTP=8081 P_BANNER=8082 P_CLOSED=8083 P_SVC=8084 P_OPEN=8090
PORTS=$P_HTTP,$P_BANNER,$P_CLOSED,$P_SVC
GW_CLOSE=2 GW_IDLE=3

cli() { in_ns "$GW_NS_CLI" "$@"; }
srv() { in_ns "$GW_NS_SRV" "$@"; }
gwx() { in_ns "$GW_NS_GW" "$@"; }
xg() { gwx "$XDPSYN" "$@"; }

finish() {
	local rc=$?
	trap - EXIT
	[ -e "$PIN" ] && xg detach "$GW_IFC" --flush-state >/dev/null 2>&1
	[ -e "$PIN" ] && xg detach "$GW_IFC" >/dev/null 2>&1
	if [ -e "/var/run/netns/$GW_NS_SRV" ]; then
		srv nft delete table inet xs_gwtest 2>/dev/null
	fi
	impair_off
	gwlab_down
	rm -rf "$TMPD"
	echo "     test_gateway: $((SECONDS - T0)) s"
	echo "$PASS passed, $FAIL failed"
	[ $FAIL -eq 0 ] && [ $rc -eq 0 ] || exit 1
}
trap finish EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------------------
# Measuring

# nst PID: "PassiveOpens RetransSegs SynRetrans Timeouts WinProbe
# FastRetrans" of the network namespace of process PID (what nstat shows
# there: TcpPassiveOpens, TcpRetransSegs, TcpExtTCPSynRetrans,
# TcpExtTCPTimeouts, TcpExtTCPWinProbe, TcpExtTCPFastRetrans)
nst() {
	awk '$1 == "Tcp:" || $1 == "TcpExt:" {
		if (!seen[$1]++) { for (i = 2; i <= NF; i++) name[$1, i] = $i; next }
		p = substr($1, 1, length($1) - 1)
		for (i = 2; i <= NF; i++) v[p name[$1, i]] = $i
	} END { print v["TcpPassiveOpens"] + 0, v["TcpRetransSegs"] + 0,
		v["TcpExtTCPSynRetrans"] + 0, v["TcpExtTCPTimeouts"] + 0, v["TcpExtTCPWinProbe"] + 0,
		v["TcpExtTCPFastRetrans"] + 0 }' \
		"/proc/$1/net/snmp" "/proc/$1/net/netstat"
}
delta() { # delta "A B ..." "A' B' ...": "+dA +dB ..."
	local a b i out=""
	read -ra a <<<"$1"; read -ra b <<<"$2"
	for i in "${!a[@]}"; do out+="+$((b[i] - a[i])) "; done
	echo "${out% }"
}
field() { local a; read -ra a <<<"$1"; echo "${a[$2]}"; }
hist() { sort | uniq -c | sed -E 's/^ *([0-9]+) /\1x /' | paste -sd';' | sed 's/;/; /g'; }

# counters of xdpsyn (stats -j, the GW_* names of include/xdpsyn.h in lower
# case); 0 when not attached (or faked)
cnt() {
	[ "$FAKE" = 1 ] && { echo 0; return; }
	xg stats "$GW_IFC" -j 2>/dev/null | jq -r ".counters.$1 // 0" 2>/dev/null || echo 0
}
cnts() { # cnts NAME...: their values in one stats read
	[ "$FAKE" = 1 ] && { local n out=""; for n in "$@"; do out+="0 "; done; echo "${out% }"; return; }
	xg stats "$GW_IFC" -j 2>/dev/null | jq -r --arg n "$*" \
		'[($n | split(" "))[] as $k | (.counters[$k] // 0)] | join(" ")' 2>/dev/null ||
		{ local n out=""; for n in "$@"; do out+="0 "; done; echo "${out% }"; }
}
sum_delta() { # sum_delta "A B" "A' B'": sum of the deltas
	local a b i s=0
	read -ra a <<<"$1"; read -ra b <<<"$2"
	for i in "${!a[@]}"; do s=$((s + b[i] - a[i])); done
	echo $s
}

# The state table: one line per entry, "STATE SPORT" (state name, the
# server's port). From `xdpsyn flows IFACE_C --json` (the gateway's
# "flows" list: {"name", "gateway": true, "count", "max", "flows": [...]},
# or a list of those under "interfaces"); with GW_FROM_PIN=1 (after a detach, when nothing is
# attached) from the pinned map itself, xdpsyn_gw_conns under
# /sys/fs/bpf/xdpsyn/IFACE_C/ (the contract: struct xdpsyn_gw_key/_conn),
# read with bpftool's BTF view. Nothing when neither is there.
st_name() { case $1 in 1) echo syn_sent ;; 2) echo established ;; 3) echo fin_wait ;; 4) echo closed ;; *) echo "state$1" ;; esac; }
gw_states() {
	if [ "${GW_FROM_PIN:-0}" = 0 ]; then
		[ "$FAKE" = 1 ] && return 0
		xg flows "$GW_IFC" --json 2>/dev/null |
			jq -r '(.interfaces // [.])[] | select(.gateway == true) | .flows[]? | "\(.state) \(.sport)"' 2>/dev/null
		return 0
	fi
	[ -e "$PIN/xdpsyn_gw_conns" ] || return 0
	bpftool map dump pinned "$PIN/xdpsyn_gw_conns" -j 2>/dev/null |
		jq -r '.[] | "\(.formatted.value.state // "?") \(.formatted.key.sport // 0)"' 2>/dev/null |
		while read -r s p; do
			# __be16 shown as a host-order number: swap the bytes back
			[[ $p =~ ^[0-9]+$ ]] && p=$(( (p >> 8) | ((p & 255) << 8) ))
			echo "$(st_name "$s") $p"
		done
}
gw_count() { # gw_count [STATE] [PORT]: entries (in STATE, to PORT)
	gw_states | awk -v s="${1:-}" -v p="${2:-}" '(s == "" || $1 == s) && (p == "" || $2 == p) { n++ } END { print n + 0 }'
}
states_summary() { gw_states | awk '{ print $1 ":" $2 }' | hist; }

# nft counters in the server's namespace: what reaches the server (before
# its TCP stack): SYNs from the flood prefixes, pure ACKs from them, the
# client's SYNs to the HTTP port, SYNs to the unprotected port
NFT_TABLE="table inet xs_gwtest {
	counter syn_flood {}
	counter ack_flood {}
	counter syn_cli {}
	counter syn_open {}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr $GW_FLOOD4 tcp dport $P_HTTP tcp flags & (syn | ack) == syn counter name syn_flood
		ip6 saddr $GW_FLOOD6 tcp dport $P_HTTP tcp flags & (syn | ack) == syn counter name syn_flood
		ip saddr $GW_FLOOD4 tcp dport $P_HTTP tcp flags & (syn | ack | rst | fin) == ack counter name ack_flood
		ip6 saddr $GW_FLOOD6 tcp dport $P_HTTP tcp flags & (syn | ack | rst | fin) == ack counter name ack_flood
		ip saddr $GW_CNET4 tcp dport $P_HTTP tcp flags & (syn | ack) == syn counter name syn_cli
		ip6 saddr $GW_CNET6 tcp dport $P_HTTP tcp flags & (syn | ack) == syn counter name syn_cli
		tcp dport $P_OPEN tcp flags & (syn | ack) == syn counter name syn_open
	}
}"
nctr() { srv nft -j list counter inet xs_gwtest "$1" | jq -r '[.nftables[] | .counter? // empty | .packets] | add // 0'; }

# cget URL N [curl args...]: N GETs by one curl, one connection each (the
# server closes), one line each: "CODE rc=EXIT [sha=HASH12 len=BYTES]"
CG_N=0
cget() {
	local url=$1 n=$2 d codes code rc i=0 f h l
	shift 2
	CG_N=$((CG_N + 1)); d=$TMPD/cg.$CG_N
	mkdir -p "$d"
	codes=$(cli timeout 10 curl -s --max-time "${CG_TIMEOUT:-4}" -w '%{http_code} %{exitcode}\n' \
		-o "$d/#1" "$@" "$url?[1-$n]" 2>/dev/null)
	declare -A sha=() len=()
	while read -r h f; do sha[${f##*/}]=${h:0:12}; done < <(sha256sum "$d"/* 2>/dev/null)
	while read -r f l; do len[${f##*/}]=$l; done < <(stat -c '%n %s' "$d"/* 2>/dev/null)
	while read -r code rc; do
		i=$((i + 1))
		if [ "${len[$i]:-0}" -gt 0 ]; then echo "$code rc=$rc sha=${sha[$i]} len=${len[$i]}"
		else echo "$code rc=$rc"; fi
	done <<<"$codes"
	[ $i -eq "$n" ] || echo "curl ended after $i of $n transfers"
	rm -rf "$d"
}
saddr() { if [ "$1" = 4 ]; then echo $GW_SRV4; else echo $GW_SRV6; fi; }
uaddr() { if [ "$1" = 4 ]; then echo $GW_SRV4; else echo "[$GW_SRV6]"; fi; }
peer() { cli "$PY" "$ROOT/tests/e2e/gw_peer.py" "$@"; }

# connections left over from a failed run would retransmit into the next
# one's figures: abort them (never listeners or TIME_WAIT)
kill_leftovers() {
	local ns
	for ns in "$GW_NS_CLI" "$GW_NS_SRV"; do
		in_ns "$ns" ss -K -tn state syn-sent state established state fin-wait-1 \
			state fin-wait-2 state close-wait state last-ack state closing >/dev/null 2>&1
	done
}
wait_listen() {
	local i
	for i in $(seq 50); do
		srv ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
# Loss and reordering on the end hosts' egress (client eth0, the server's
# interface; never the gateway's: XDP_REDIRECT bypasses its qdisc). This
# kernel has no sch_netem (nor sch_fq, whose time-based queues could
# reorder): tests/e2e/lossy.bpf.c, a clsact egress filter, drops LOSS/10000
# of the TCP segments at random and sends REORDER/10000 of them to a slow
# HTB class (1:20, SLOW_RATE, a short pfifo) whose queue holds them while
# later segments leave through 1:10: reordered (and, when that queue
# overflows, lost). The figures shown: dropped, sent through the slow class.
LOSS=${GWTEST_LOSS:-100} REORDER=${GWTEST_REORDER:-300} SLOW_RATE=${GWTEST_SLOW_RATE:-20mbit}
IMPAIR="loss $((LOSS / 100)).$((LOSS % 100 / 10))%, reorder $((REORDER / 100)).$((REORDER % 100 / 10))% (slow class $SLOW_RATE)"
TCPINS=/sys/fs/bpf/xs-gwtest-$GWLAB_ID
impair_on() {
	local ns dev tag
	mkdir -p "$TCPINS" || return 1
	for tag in c s; do
		if [ $tag = c ]; then ns=$GW_NS_CLI dev=eth0; else ns=$GW_NS_SRV dev=$GW_SRV_IF; fi
		in_ns "$ns" tc qdisc replace dev "$dev" root handle 1: htb default 10 &&
			in_ns "$ns" tc class add dev "$dev" parent 1: classid 1:10 htb rate 100gbit quantum 1514 &&
			in_ns "$ns" tc class add dev "$dev" parent 1: classid 1:20 htb rate "$SLOW_RATE" quantum 1514 &&
			in_ns "$ns" tc qdisc add dev "$dev" parent 1:10 handle 10: pfifo limit 1000 &&
			in_ns "$ns" tc qdisc add dev "$dev" parent 1:20 handle 20: pfifo limit 30 &&
			in_ns "$ns" "$ROOT/build/tcxload" tc "$dev" egress "$ROOT/build/lossy.bpf.o" "$TCPINS/$tag" "$LOSS" 1 \
				"$REORDER" >/dev/null || return 1
	done
}
impaired() { # "dropped D, slow class S" summed over both ends
	local tag d=0 r=0 a
	for tag in c s; do
		a=$("$ROOT/build/tcxload" count "$TCPINS/$tag" 2>/dev/null) || continue
		d=$((d + $(sed -E 's/^fin=([0-9]+).*/\1/' <<<"$a")))
		r=$((r + $(sed -E 's/.*bytes=([0-9]+).*/\1/' <<<"$a")))
	done
	echo "dropped $d, slow class $r"
}
impair_off() {
	if [ -e "/var/run/netns/$GW_NS_CLI" ]; then
		cli "$ROOT/build/tcxload" untc eth0 egress 1 >/dev/null 2>&1
		cli tc qdisc replace dev eth0 root pfifo limit 1000
	fi
	if [ -e "/var/run/netns/$GW_NS_SRV" ]; then
		srv "$ROOT/build/tcxload" untc "$GW_SRV_IF" egress 1 >/dev/null 2>&1
		srv tc qdisc replace dev "$GW_SRV_IF" root pfifo limit 1000
	fi
	rm -rf "$TCPINS"
	return 0
}

# (re)start the HTTP server: after a flood its listener's queue of request
# sockets would go on retransmitting SYN-ACKs into the next case's figures;
# a new listener starts clean
HTTP_PID=
http_server() {
	[ -n "$HTTP_PID" ] && stop_bg "$HTTP_PID"
	lab_bg "$GW_NS_SRV" "$PY" tests/e2e/noharm_server.py $P_HTTP --tag gw >/dev/null
	HTTP_PID=${LAB_PIDS[-1]}
	wait_listen $P_HTTP || { bad "servers" "nothing listens on $P_HTTP"; exit 1; }
}

# ---------------------------------------------------------------------------
# Attach and detach

# gw_attach [extra options]: xdpsyn in gateway mode on the gateway
gw_attach() {
	local out
	if [ "$FAKE" = 1 ]; then ATTACHED=1; return 0; fi
	# (a)'s xdp_pass (iproute2, not libxdp) off the gateway's interfaces
	gwx ip link set dev "$GW_IFC" xdpdrv off 2>/dev/null
	gwx ip link set dev "$GW_IFS" xdpdrv off 2>/dev/null
	local adopt=()
	[ "${ADOPT_DEFAULT:-0}" = 0 ] && adopt=(--gw-adopt 0)
	if ! out=$(xg attach "$GW_IFC" --ports "$PORTS" --gateway "$GW_IFS" --gw-close $GW_CLOSE \
		--mode "${XMODE:-native}" "${adopt[@]}" "$@" 2>&1); then
		ATTACH_ERR=$out
		return 1
	fi
	ATTACHED=1
}
gw_detach() { # gw_detach [--flush-state]
	local out
	ATTACHED=0
	[ "$FAKE" = 1 ] && return 0
	out=$(xg detach "$GW_IFC" "$@" 2>&1) || { ATTACH_ERR=$out; return 1; }
}

# ---------------------------------------------------------------------------
# The cases. sc_NAME MODE FAM runs NAME once (MODE a = routed, b = through
# xdpsyn) and leaves its outcome in O[MODE/NAME/FAM] (and other figures in
# X[...]); cmp_NAME FAM checks (b) against (a). FAM "46" = both at once.
declare -A O X

# 1. HTTP: curl, N connections to noharm_server.py (HTTP/1.0, the server
# closes first), 20 kB each. Compared: outcomes and sha256 of every body;
# the server's PassiveOpens; the client's and the server's retransmitted
# segments, SYN retransmissions, RTOs and the client's zero-window probes.
# Nothing is allowed as inherent on this lossless path: the cookie SYN-ACK
# has window 0 and the client holds its request until the server's side is
# connected, but the window update comes one gateway round trip later, far
# below the client's RTO, so no probe and no retransmission is expected.
# Breaks when: a connection fails or a byte differs (seq/ack translation),
# a segment is lost or late (retransmissions, a zero-window probe: the
# window update missing or late), the server sees connections twice.
HTTP_N=20
# (each case's clients have short timeouts and an overall bound, so that a
# gateway that forwards nothing fails the suite in minutes, not hours)
sc_http() {
	local m=$1 f=$2 s0 c0 s1 c1
	s0=$(nst "$SRV_ANCHOR"); c0=$(nst "$CLI_ANCHOR")
	O[$m/http/$f]=$(CG_TIMEOUT=1.5 cget "http://$(uaddr "$f"):$P_HTTP/20000" $HTTP_N | hist)
	sleep 0.2
	s1=$(nst "$SRV_ANCHOR"); c1=$(nst "$CLI_ANCHOR")
	X[$m/http/$f]="$(delta "$s0" "$s1")|$(delta "$c0" "$c1")"
}
# "srv fastrtx +a synrtx +b rto +c, cli fastrtx +d synrtx +e rto +f
# winprobe +g": retransmissions after a loss was detected (fast, RTO, of
# SYNs) and zero-window probes; not TcpRetransSegs, which also counts tail
# loss probes (a TLP fires when an ACK is late, e.g. when a busy 2-core
# machine delays the peer: seen routed as often as through the gateway)
rtx_line() {
	local s c
	s=${1%%|*} c=${1#*|}
	echo "srv fastrtx $(field "$s" 5) synrtx $(field "$s" 2) rto $(field "$s" 3), cli fastrtx $(field "$c" 5) synrtx $(field "$c" 2) rto $(field "$c" 3) winprobe $(field "$c" 4)"
}
cmp_http() {
	local f=$1 a=${O[a/http/$1]} b=${O[b/http/$1]} xa=${X[a/http/$1]} xb=${X[b/http/$1]}
	# the routed run must be what the case needs
	[[ $a == "${HTTP_N}x 200 rc=0 sha="* ]]
	r=$?
	check "[1] http IPv$f routed: $a" $r "the routed run failed"
	same "[1] http IPv$f: $HTTP_N curl requests through the gateway, outcomes and sha256 as routed ($b)" "$b" "$a"
	same "[1] http IPv$f: server PassiveOpens $(field "${xb%%|*}" 0) (routed $(field "${xa%%|*}" 0))" \
		"$(field "${xb%%|*}" 0)" "$(field "${xa%%|*}" 0)"
	same "[1] http IPv$f: no added retransmission ($(rtx_line "$xb"))" "$(rtx_line "$xb")" "$(rtx_line "$xa")"
}

# 2. TCP options: for each of the 16 client settings (tcp_timestamps,
# tcp_sack, tcp_window_scaling, tcp_ecn in the client's namespace, bits
# 0..3 of the combination's number), one connection per family to
# gw_peer.py's INFO service, which answers with the server's own TCP_INFO
# of that connection: options (ts, sack, wscale, ecn), window scales
# (snd = the client's, rcv = the server's) and tcpi_snd_mss. Through the
# gateway the server's socket must match the routed one, the MSS rounded
# down to the cookie's table (IPv4 536,1300,1440,1460; IPv6
# 1220,1420,1440,8940: on this lab's MTU 1500 the client's 1460/1440 are in
# the table, so the MSS must be the routed one exactly). The client's side
# must have the same options (the window scale it was told may differ: the
# gateway translates windows). One connection first (not compared): the
# gateway learns the server's options from its SYN-ACKs.
# Breaks when: the gateway's SYN to the server drops or changes an option
# the client offered (the cookie lost it), offers one the client did not,
# or the cookie SYN-ACK tells the client something the server never agreed.
OPT_SYSCTLS=(tcp_timestamps tcp_sack tcp_window_scaling tcp_ecn)
opts_set() { # opts_set COMBO: the client's sysctls
	local i args=()
	for i in 0 1 2 3; do args+=("net.ipv4.${OPT_SYSCTLS[$i]}=$(( ($1 >> i) & 1 ))"); done
	cli sysctl -qw "${args[@]}"
}
opts_name() { local i n=""; for i in 0 1 2 3; do n+="${OPT_SYSCTLS[$i]#tcp_}=$(( ($1 >> i) & 1 )) "; done; echo "${n% }"; }
sc_opts() {
	local m=$1 c out saved to=2
	saved=$(for s in "${OPT_SYSCTLS[@]}"; do echo "net.ipv4.$s=$(cli sysctl -n net.ipv4.$s)"; done)
	peer info "$GW_SRV4,$GW_SRV6" $P_SVC --timeout 3 >/dev/null 2>&1 # learning
	for c in $(seq 0 15); do
		opts_set "$c"
		out=$(peer info "$GW_SRV4,$GW_SRV6" $P_SVC --timeout $to 2>&1)
		# fail fast: once both families failed, the rest only need to fail
		[[ $out == *"cli "* ]] || to=0.3
		O[$m/opts/$c/4]=$(sed -n 1p <<<"$out" | sed -E 's/ ms=[0-9.]+$//')
		O[$m/opts/$c/6]=$(sed -n 2p <<<"$out" | sed -E 's/ ms=[0-9.]+$//')
		X[$m/opts/$c/4]=$(sed -n 1p <<<"$out" | sed -nE 's/.* ms=([0-9.]+)$/\1/p')
		X[$m/opts/$c/6]=$(sed -n 2p <<<"$out" | sed -nE 's/.* ms=([0-9.]+)$/\1/p')
	done
	# shellcheck disable=SC2046
	cli sysctl -qw $(echo $saved)
	# what the gateway learned of the server (xdpsyn servers --json), now:
	# later cases open more connections to this port
	[ "$m" = b ] && [ "$FAKE" != 1 ] && X[b/opts/servers]=$(xg servers "$GW_IFC" --json 2>&1)
}
mss_floor() { # mss_floor FAM MSS: the cookie table's value for MSS
	local t v r=0
	if [ "$1" = 4 ]; then t="536 1300 1440 1460"; else t="1220 1420 1440 8940"; fi
	for v in $t; do [ "$2" -ge "$v" ] && r=$v; done
	[ $r = 0 ] && r=${t%% *}
	echo $r
}
# the server's half with the MSS as the gateway's SYN would carry it: the
# MSS option is tcpi_snd_mss plus the 12 bytes of an aligned timestamp
# option when timestamps are on
srv_expected() { # srv_expected FAM "srv opts=... wscale=... mss=N"
	local s=$2 o mss adj=0
	o=$(sed -E 's/.*opts=([^ ]*).*/\1/' <<<"$s")
	mss=$(sed -E 's/.*mss=([0-9]+).*/\1/' <<<"$s")
	[[ $o == *ts* ]] && adj=12
	[[ $mss =~ ^[0-9]+$ ]] || { echo "$s"; return; }
	sed -E "s/mss=[0-9]+/mss=$(( $(mss_floor "$1" $((mss + adj))) - adj ))/" <<<"$s"
}
# The servers table (xdpsyn servers --json) after case 2's 17 connections
# per family: the server's entry for the INFO port learned from its
# SYN-ACKs: timestamps and SACK on, its window scale the one its sockets
# use (the rcv scale of a routed connection), its MSS what its kernel
# advertises on this MTU (1460 IPv4, 1440 IPv6), 17 connections opened.
# Breaks when: the server's SYN-ACK is not learned from (the stub), or
# learned wrong.
cmp_servers() {
	local f=$1 a e addr want_ws want_mss
	addr=$(saddr "$f")
	want_ws=$(sed -nE 's/.*\| srv .*wscale=[0-9]+,([0-9]+).*/\1/p' <<<"${O[a/opts/15/$f]}")
	if [ "$f" = 4 ]; then want_mss=1460; else want_mss=1440; fi
	e=$(jq -c --arg a "$addr" --argjson p $P_SVC \
		'[.servers[]? | select(.addr == $a and .port == $p)][0] // empty |
		 {source, ts, sack, ws, mss, conns}' <<<"${X[b/opts/servers]:-}" 2>/dev/null)
	a=$(jq -r --argjson ws "${want_ws:-0}" --argjson mss $want_mss \
		'select(.source == "learned" and .ts and .sack and .ws == $ws and .mss == $mss and .conns >= 17) | "yes"' \
		<<<"${e:-null}" 2>/dev/null)
	[ "$a" = yes ]
	r=$?
	check "[2] opts IPv$f: servers --json learned $addr:$P_SVC from its SYN-ACKs (${e:-no entry})" $r \
		"want source learned, ts, sack, ws $want_ws, mss $want_mss, conns >= 17; got ${e:-no entry}: $(head -c 300 <<<"${X[b/opts/servers]:-}")"
}
cmp_opts() {
	local f=$1 c a b sa sb ca cb
	for c in $(seq 0 15); do
		a=${O[a/opts/$c/$f]:-none} b=${O[b/opts/$c/$f]:-none}
		sa=$(srv_expected "$f" "${a#*| srv }") sb=${b#*| srv }
		ca=$(sed -E 's/.*cli opts=([^ ]*).*/\1/' <<<"$a") cb=$(sed -E 's/.*cli opts=([^ ]*).*/\1/' <<<"$b")
		if [[ $a != "cli "*"| srv opts="* ]]; then
			bad "[2] opts IPv$f $(opts_name "$c") routed" "the routed connection failed: $a"
			continue
		fi
		[ "$sb" = "$sa" ] && [ "$cb" = "$ca" ] && [[ $b == "cli "* ]]
		r=$?
		check "[2] opts IPv$f $(opts_name "$c"): server socket $sb, client $cb, as routed" $r \
			"gateway: $b | routed: $a (expected server: $sa)"
	done
	# no option set waits for a retransmission: the slowest connection
	# (connect to the server's answer) within 100 ms of the slowest routed
	# one (fails when e.g. the final ACK of some option set cannot become
	# the server's SYN and only the client's window probe, 200 ms+ later,
	# gets through)
	local ta=0 tb=0 wa="" wb=""
	for c in $(seq 0 15); do
		awk -v x="${X[a/opts/$c/$f]:-0}" -v m="$ta" 'BEGIN { exit !(x > m) }' && ta=${X[a/opts/$c/$f]} wa=$c
		awk -v x="${X[b/opts/$c/$f]:-99999}" -v m="$tb" 'BEGIN { exit !(x > m) }' && tb=${X[b/opts/$c/$f]:-99999} wb=$c
	done
	awk -v a="$ta" -v b="$tb" 'BEGIN { exit !(b < a + 100) }'
	r=$?
	check "[2] opts IPv$f: slowest connection ${tb} ms through the gateway ($(opts_name "${wb:-0}")), ${ta} ms routed" $r \
		"slowest ${tb} ms ($(opts_name "${wb:-0}")) vs ${ta} ms routed"
	cmp_servers "$f"
}

# 3. Data: DATA_MB each way at once per connection (gw_peer.py bulk: both
# ends check the SHA-256 of what they received against what the other
# sent), loss and reordering on the end hosts' egress (impair_on above:
# this kernel has no netem), v4 and v6 in parallel. Retransmissions are not compared (random
# loss), completion and bytes are.
# Breaks when: a retransmitted, reordered or SACKed segment is translated
# wrong (SACK blocks, seq/ack wrap, windows: a stall or a corrupt byte),
# or the connection stalls (timeout).
sc_data() {
	local m=$1 f t p4 p6
	X[$m/data]=0 X[$m/data/imp]=""
	impair_on || { O[$m/data/4]="impairment set-up failed" O[$m/data/6]="impairment set-up failed"; impair_off; return; }
	t=$SECONDS
	peer bulk "$GW_SRV4" $P_SVC --bytes $((DATA_MB * 1000000)) --timeout 10 >"$TMPD/bulk4" 2>&1 &
	p4=$!
	peer bulk "$GW_SRV6" $P_SVC --bytes $((DATA_MB * 1000000)) --timeout 10 >"$TMPD/bulk6" 2>&1 &
	p6=$!
	wait $p4 $p6
	X[$m/data/imp]=$(impaired)
	impair_off
	for f in 4 6; do O[$m/data/$f]=$(tail -n 1 "$TMPD/bulk$f"); done
	X[$m/data]=$((SECONDS - t))
}
cmp_data() {
	local f=$1 a=${O[a/data/$1]} b=${O[b/data/$1]}
	[[ $a == "ok rx=match srv_rx=match"* ]] && [[ ${X[a/data/imp]} != *"dropped 0,"* ]]
	r=$?
	check "[3] data IPv$f routed, ${DATA_MB} MB each way, $IMPAIR: $a (${X[a/data]} s; v4+v6 ${X[a/data/imp]})" $r \
		"$a; ${X[a/data/imp]}"
	[[ $b == "ok rx=match srv_rx=match"* ]]
	r=$?
	check "[3] data IPv$f through the gateway: ${DATA_MB} MB each way byte-exact at both ends as routed: $b (${X[b/data]} s; v4+v6 ${X[b/data/imp]})" $r \
		"gateway: $b | routed: $a"
}

# 4. Flood: a bounded spoofed SYN flood (build/synflood, sources in the
# lab's flood prefix, FLOOD_N SYNs at FLOOD_RATE/s) from the attacker to
# the server's HTTP port through the gateway, 20 legit connections during
# it. What reaches the server is counted before its TCP stack (nft in its
# namespace): in (a) the flood (the server's own SYN cookies answer it),
# in (b) none of it, and exactly the legit SYNs.
# Breaks when: a spoofed SYN is forwarded to the server (XDP passes it: the
# stub), the gateway makes state or a SYN to the server from a SYN alone,
# or a legit connection fails during the flood.
FLOOD_N=20000 FLOOD_RATE=20000 LEGIT_N=20
sc_flood() {
	local m=$1 f=$2 fl sf0 sc0 sf1 sc1 sent mac src
	mac=$(if_mac "$GW_NS_GW" "$GW_IFC")
	if [ "$f" = 4 ]; then src=$GW_FLOOD4; else src=$GW_FLOOD6; fi
	sf0=$(nctr syn_flood); sc0=$(nctr syn_cli)
	lab_bg "$GW_NS_ATK" "$ROOT/build/synflood" -i eth0 --dst-ip "$(saddr "$f")" --dst-mac "$mac" \
		--dport $P_HTTP --src-net "$src" --rate $FLOOD_RATE --count $FLOOD_N --duration 3 -q \
		>"$TMPD/flood.out" 2>&1
	fl=${LAB_PIDS[-1]}
	sleep 0.2
	O[$m/flood/$f]=$(cli timeout 12 "$PY" tests/e2e/noharm_client.py "$(saddr "$f")" $P_HTTP -n $LEGIT_N \
		--size 2000 --timeout 2.5 | sed -E 's/ opts=.*//' | hist)
	wait_bg "$fl"
	sleep 0.3
	sent=$(grep -o 'sent=[0-9]*' "$TMPD/flood.out" | cut -d= -f2)
	sf1=$(nctr syn_flood); sc1=$(nctr syn_cli)
	X[$m/flood/$f]="${sent:-0} $((sf1 - sf0)) $((sc1 - sc0))"
	http_server
}
cmp_flood() {
	local f=$1 a=${O[a/flood/$1]} b=${O[b/flood/$1]} xa xb
	read -ra xa <<<"${X[a/flood/$f]}"; read -ra xb <<<"${X[b/flood/$f]}"
	[ "${xa[0]}" -gt $((FLOOD_N / 2)) ] && [ "${xa[1]}" -gt $((xa[0] / 2)) ]
	r=$?
	check "[4] flood IPv$f routed: ${xa[0]} spoofed SYNs sent, ${xa[1]} reached the server (the baseline: plain forwarding lets them through)" $r \
		"the flood did not reach the server in the routed run: sent ${xa[0]}, at the server ${xa[1]}"
	[ "${xb[0]}" -gt $((FLOOD_N / 2)) ] && [ "${xb[1]}" -eq 0 ]
	r=$?
	check "[4] flood IPv$f through the gateway: ${xb[0]} spoofed SYNs sent, ${xb[1]} reached the server (routed ${xa[1]})" $r \
		"the server received ${xb[1]} of the flood's SYNs (sent ${xb[0]})"
	[ "${xb[2]}" -eq $LEGIT_N ]
	r=$?
	check "[4] flood IPv$f through the gateway: the server saw exactly the $LEGIT_N legit SYNs (${xb[2]}; routed ${xa[2]})" $r \
		"legit SYNs at the server: ${xb[2]}, want $LEGIT_N"
	[[ $b == "${LEGIT_N}x ok sha="* ]]
	r=$?
	check "[4] flood IPv$f through the gateway: $LEGIT_N/$LEGIT_N legit connections during the flood ($b; routed: $a)" $r \
		"gateway: $b | routed: $a"
}

# 4b. 10^5 forged ACKs (random seq/ack: random cookies) at the server's
# HTTP port from the flood prefix. (a): they reach the server, which
# resets them. (b): none reaches the server (nft count of pure ACKs from
# the flood prefix 0), its PassiveOpens do not move, and xdpsyn counts them
# (gw_c2s_no_state + ack_invalid at least 90% of those sent: the rest may
# be lost in the veth rings before XDP sees them).
# Breaks when: forged ACKs are passed (the stub), one is taken for a valid
# cookie (a connection at the server), or they go uncounted.
FORGED_N=100000
sc_forged() {
	local m=$1 f=$2 fl a0 a1 s0 s1 k0 k1 sent mac src
	mac=$(if_mac "$GW_NS_GW" "$GW_IFC")
	if [ "$f" = 4 ]; then src=$GW_FLOOD4; else src=$GW_FLOOD6; fi
	a0=$(nctr ack_flood); s0=$(nst "$SRV_ANCHOR"); k0=$(cnts gw_c2s_no_state ack_invalid)
	lab_bg "$GW_NS_ATK" "$ROOT/build/synflood" -i eth0 --ack --dst-ip "$(saddr "$f")" --dst-mac "$mac" \
		--dport $P_HTTP --src-net "$src" --rate 100000 --count $FORGED_N --duration 4 -q \
		>"$TMPD/forged.out" 2>&1
	fl=${LAB_PIDS[-1]}
	wait_bg "$fl"
	sleep 0.5
	sent=$(grep -o 'sent=[0-9]*' "$TMPD/forged.out" | cut -d= -f2)
	a1=$(nctr ack_flood); s1=$(nst "$SRV_ANCHOR"); k1=$(cnts gw_c2s_no_state ack_invalid)
	X[$m/forged/$f]="${sent:-0} $((a1 - a0)) $(( $(field "$s1" 0) - $(field "$s0" 0) )) $(sum_delta "$k0" "$k1")"
}
cmp_forged() {
	local f=$1 xa xb
	read -ra xa <<<"${X[a/forged/$f]}"; read -ra xb <<<"${X[b/forged/$f]}"
	[ "${xa[0]}" -gt $((FORGED_N * 9 / 10)) ] && [ "${xa[1]}" -gt $((xa[0] / 2)) ] && [ "${xa[2]}" -eq 0 ]
	r=$?
	check "[4] forged ACKs IPv$f routed: ${xa[0]} sent, ${xa[1]} reached the server, PassiveOpens +${xa[2]}" $r \
		"routed baseline not as expected: sent ${xa[0]}, at the server ${xa[1]}, opens +${xa[2]}"
	[ "${xb[0]}" -gt $((FORGED_N * 9 / 10)) ] && [ "${xb[1]}" -eq 0 ] && [ "${xb[2]}" -eq 0 ]
	r=$?
	check "[4] forged ACKs IPv$f through the gateway: ${xb[0]} sent, ${xb[1]} reached the server, PassiveOpens +${xb[2]}" $r \
		"sent ${xb[0]}, at the server ${xb[1]}, server PassiveOpens +${xb[2]}"
	[ "${xb[3]}" -ge $((xb[0] * 9 / 10)) ]
	r=$?
	check "[4] forged ACKs IPv$f: gw_c2s_no_state + ack_invalid +${xb[3]} account for the ${xb[0]} sent" $r \
		"counted +${xb[3]} of ${xb[0]}"
}

# 6a. A protected port without a listener (noharm_client.py, 3
# connections). Routed: the server's RST answers the SYN: refused. Through
# the gateway the cookie SYN-ACK completes the client's connect() first
# (every SYN proxy does; inherent), then the server's RST to the gateway's
# SYN must come back as a reset: each connection ends reset (or refused),
# never by the client's timeout, in well under a second.
# Breaks when: the gateway drops the server's RST or never sends the
# client one (the client hangs on a zero window: timeout).
sc_closed() {
	local m=$1 f=$2 t k0
	k0=$(cnt gw_server_refused)
	t=$(date +%s%N)
	O[$m/closed/$f]=$(cli "$PY" tests/e2e/noharm_client.py "$(saddr "$f")" $P_CLOSED -n 3 --timeout 2 | hist)
	X[$m/closed/$f]=$(( ($(date +%s%N) - t) / 1000000 ))
	X[$m/closed/$f/k]=$(( $(cnt gw_server_refused) - k0 ))
}
cmp_closed() {
	local f=$1 a=${O[a/closed/$1]} b=${O[b/closed/$1]} out
	[ "$a" = "3x refused" ]
	r=$?
	check "[6] closed port IPv$f routed: $a" $r "$a"
	out=$(sed -E 's/[0-9]+x (refused|reset|reset after connect|error=EPIPE after connect|error=ECONNRESET after connect)(; |$)//g' <<<"$b")
	[ -z "$out" ] && [ -n "$b" ] && [ "${X[b/closed/$f]}" -lt 2000 ]
	r=$?
	check "[6] closed port IPv$f through the gateway: every connection reset, none hangs ($b in ${X[b/closed/$f]} ms; routed: $a)" $r \
		"gateway: $b in ${X[b/closed/$f]} ms | routed: $a"
	# README "Limits": counted gw_server_refused (fails when the server's
	# RST is not recognised as a refusal)
	[ "${X[b/closed/$f/k]}" -eq 3 ]
	r=$?
	check "[6] closed port IPv$f: gw_server_refused +${X[b/closed/$f/k]} for the 3 connections" $r \
		"gw_server_refused +${X[b/closed/$f/k]}"
}

# 6b. TIME_WAIT reuse: the server closes first (HTTP/1.0) and holds the
# tuple in TIME_WAIT; the client comes back from the same port three
# times, right after each close (each run its own port, above the
# ephemeral range). Compared: outcomes and bytes, PassiveOpens.
# Breaks when: the gateway's state of the previous connection (closed, not
# yet removed) catches the new handshake, or its SYN to the server lacks
# what lets the server's TIME_WAIT accept it (timestamps, a higher ISN).
LPORT=61000
sc_timewait() {
	local m=$1 f=$2 i s0 s1
	LPORT=$((LPORT + 1))
	s0=$(nst "$SRV_ANCHOR")
	O[$m/timewait/$f]=$(for i in 1 2 3; do
		CG_TIMEOUT=2 cget "http://$(uaddr "$f"):$P_HTTP/2000" 1 --local-port $LPORT
	done | hist)
	s1=$(nst "$SRV_ANCHOR")
	X[$m/timewait/$f]=$(( $(field "$s1" 0) - $(field "$s0" 0) ))
}
cmp_timewait() {
	local f=$1 a=${O[a/timewait/$1]} b=${O[b/timewait/$1]}
	[[ $a == "3x 200 rc=0 "* ]]
	r=$?
	check "[6] timewait IPv$f routed: $a" $r "$a"
	same "[6] timewait IPv$f: the same client port three times in a row, as routed ($b)" "$b" "$a"
	same "[6] timewait IPv$f: PassiveOpens +${X[b/timewait/$f]}, as routed" "${X[b/timewait/$f]}" "${X[a/timewait/$f]}"
}

# 6c. The client's first data right after connect (gw_peer.py req: GET
# sent as soon as connect() returns, 10 connections): same bytes, and no
# wait for a retransmission timeout: the slowest (b) connection within
# 100 ms of the slowest routed one (an RTO is 200 ms or more; the
# gateway's extra round trip is well under a millisecond here).
# Breaks when: the client's held request is released only by its zero-
# window probe or a retransmission (the window update never comes, or the
# request is dropped while the server side connects).
sc_firstdata() {
	local m=$1 f=$2 out
	out=$(peer req "$(saddr "$f")" $P_HTTP -n 10 --size 1000 --timeout 1 2>&1)
	O[$m/firstdata/$f]=$(sed -E 's/ ms=[0-9.]+//' <<<"$out" | hist)
	X[$m/firstdata/$f]=$(grep -o 'ms=[0-9.]*' <<<"$out" | cut -d= -f2 | sort -n | tail -n 1)
}
cmp_firstdata() {
	local f=$1 a=${O[a/firstdata/$1]} b=${O[b/firstdata/$1]} ta=${X[a/firstdata/$1]:-0} tb=${X[b/firstdata/$1]:-9999}
	same "[6] first data IPv$f: request right after connect, 10 connections, outcomes and bytes as routed ($b)" "$b" "$a"
	awk -v a="$ta" -v b="$tb" 'BEGIN { exit !(b < a + 100) }'
	r=$?
	check "[6] first data IPv$f: slowest request ${tb} ms through the gateway, ${ta} ms routed (no RTO wait)" $r \
		"slowest ${tb} ms vs ${ta} ms routed"
}

# 6d. Server speaks first (gw_peer.py banner: the server writes a banner as
# soon as it accepts, the client only reads), 10 connections: time from
# connect() to the banner, (b) within 100 ms of (a) (about one extra round
# trip allowed, not an RTO of 200 ms+).
# Breaks when: the banner waits for something from the client (the
# gateway completes the server's handshake only on the client's next
# segment), or the server's data is held behind a window the gateway
# never opened.
sc_banner() {
	local m=$1 f=$2 out
	out=$(peer banner "$(saddr "$f")" $P_BANNER -n 10 --timeout 1 2>&1)
	O[$m/banner/$f]=$(sed -E 's/ ms=[0-9.]+//' <<<"$out" | hist)
	X[$m/banner/$f]=$(grep -o 'ms=[0-9.]*' <<<"$out" | cut -d= -f2 | sort -n | tail -n 1)
}
cmp_banner() {
	local f=$1 a=${O[a/banner/$1]} b=${O[b/banner/$1]} ta=${X[a/banner/$1]:-0} tb=${X[b/banner/$1]:-9999}
	[ "$a" = "10x ok" ]
	r=$?
	check "[6] banner IPv$f routed: $a" $r "$a"
	same "[6] banner IPv$f: server speaks first, 10 connections as routed ($b)" "$b" "$a"
	awk -v a="$ta" -v b="$tb" 'BEGIN { exit !(b < a + 100) }'
	r=$?
	check "[6] banner IPv$f: slowest banner ${tb} ms through the gateway, ${ta} ms routed (about one RTT more at most)" $r \
		"slowest ${tb} ms vs ${ta} ms routed"
}

# 6e. A port not in --ports (noharm_server.py on P_OPEN): untouched.
# Compared: outcomes and bytes, PassiveOpens, the SYNs at the server (nft:
# the client's own, one per connection); and in (b) no gateway counter
# moves (no cookie, no state, nothing translated). (Retransmissions are
# case 1's.)
# Breaks when: the gateway answers or translates an unprotected port.
GW_TOUCH="synack_tx gw_conn_new gw_c2s gw_s2c gw_c2s_no_state gw_s2c_no_state gw_adopted"
sc_unprotected() {
	local m=$1 f=$2 s0 s1 n0 n1 k0 k1
	s0=$(nst "$SRV_ANCHOR"); n0=$(nctr syn_open); k0=$(cnts $GW_TOUCH)
	O[$m/unprotected/$f]=$(CG_TIMEOUT=2 cget "http://$(uaddr "$f"):$P_OPEN/5000" 10 | hist)
	sleep 0.2
	s1=$(nst "$SRV_ANCHOR"); n1=$(nctr syn_open); k1=$(cnts $GW_TOUCH)
	X[$m/unprotected/$f]="opens $(field "$(delta "$s0" "$s1")" 0), SYNs at the server +$((n1 - n0))"
	X[$m/unprotected/$f/k]=$(sum_delta "$k0" "$k1")
}
cmp_unprotected() {
	local f=$1 a=${O[a/unprotected/$1]} b=${O[b/unprotected/$1]}
	[[ $a == "10x 200 rc=0 "* ]]
	r=$?
	check "[6] unprotected port IPv$f routed: $a" $r "$a"
	same "[6] unprotected port IPv$f: outcomes and bytes as routed ($b)" "$b" "$a"
	same "[6] unprotected port IPv$f: ${X[b/unprotected/$f]}, as routed" "${X[b/unprotected/$f]}" "${X[a/unprotected/$f]}"
	[ "${X[b/unprotected/$f/k]}" = 0 ]
	r=$?
	check "[6] unprotected port IPv$f: no xdpsyn counter of a handled segment moved ($GW_TOUCH)" $r \
		"they moved by ${X[b/unprotected/$f/k]}"
}

# 5c. Detach and attach while a connection exchanges data (gw_peer.py
# persist: 60 echoed lines, one every 50 ms): in (b) `detach` 1 s in,
# the state table must still be pinned with the connection in it, then
# `attach` again 0.5 s later. The bytes must match the routed run's and
# the connection must neither reset nor time out (segments during the gap
# reach the server untranslated and are dropped there; the client's
# retransmissions after the attach repair it: retransmissions are not
# compared). The gap is 0.5 s plus the attach itself, about 2.5 s here
# (BPF loading, libxdp): with the client's RTO backing off, its next
# retransmission may come 6 s after that, so the client waits up to 20 s
# for an echo.
# Breaks when: detach drops the state table (the connection is lost, its
# segments later have no state: a hang, or a reset), or attach does not
# resume from it.
sc_reattach() { # both families at once, one detach + attach
	local m=$1 f p4 p6 n=-1
	peer persist "$GW_SRV4" $P_SVC --lines 60 --interval 0.05 --timeout 20 >"$TMPD/persist4" 2>&1 &
	p4=$!
	peer persist "$GW_SRV6" $P_SVC --lines 60 --interval 0.05 --timeout 20 >"$TMPD/persist6" 2>&1 &
	p6=$!
	if [ "$m" = b ]; then
		sleep 1
		gw_detach || echo "detach: $ATTACH_ERR" >>"$TMPD/reattach.err"
		n=$(GW_FROM_PIN=1 gw_count established $P_SVC)
		sleep 0.5
		gw_attach || echo "attach: $ATTACH_ERR" >>"$TMPD/reattach.err"
	fi
	wait $p4 $p6
	for f in 4 6; do O[$m/reattach/$f]=$(cat "$TMPD/persist$f"); done
	X[$m/reattach]=$n
}
cmp_reattach() {
	local f=$1 a=${O[a/reattach/$1]} b=${O[b/reattach/$1]}
	[[ $a == "ok lines=60 "* ]]
	r=$?
	check "[5] reattach IPv$f routed: $a" $r "$a"
	same "[5] reattach IPv$f: detach + attach during a connection, it goes on, bytes as routed ($b)" "$b" "$a"
	[ "$f" = 6 ] || return 0
	[ "${X[b/reattach]}" -ge 2 ]
	r=$?
	check "[5] reattach: after detach the state table is still pinned with both connections established (${X[b/reattach]} to port $P_SVC)" $r \
		"${X[b/reattach]} entries in $PIN/xdpsyn_gw_conns after detach$( [ -s "$TMPD/reattach.err" ] && echo "; $(cat "$TMPD/reattach.err")")"
	rm -f "$TMPD/reattach.err"
}

# 7. A connection opened before the attach (gw_peer.py persist, 120 lines
# over 6 s; attach 0.7 s in, which takes about 2.5 s; the default
# --gw-adopt): it must go on as
# routed, and the gateway adopts it (gw_adopted: a server segment adopts
# it, README "Limits"). And new connections made while the adopt window
# is open (5 curl requests per family, 0.5 s after the attach) must
# succeed as routed: a valid final ACK is a new handshake, not an old
# connection's segment.
# Breaks when: the gateway drops, resets or translates segments of a
# connection it has no state for; or, in the window, passes new
# handshakes' final ACKs untouched instead of checking their cookie (the
# server resets them).
adopt_run() { # adopt_run MODE: both families at once
	local m=$1 f p4 p6 k0
	peer persist "$GW_SRV4" $P_SVC --lines 120 --interval 0.05 --timeout 10 >"$TMPD/adopt4" 2>&1 &
	p4=$!
	peer persist "$GW_SRV6" $P_SVC --lines 120 --interval 0.05 --timeout 10 >"$TMPD/adopt6" 2>&1 &
	p6=$!
	if [ "$m" = b ]; then
		sleep 0.7
		ADOPT_DEFAULT=1 gw_attach || bad "attach in gateway mode" "$ATTACH_ERR"
		sleep 0.5
	else
		sleep 1.2
	fi
	for f in 4 6; do
		O[$m/adopt/new/$f]=$(CG_TIMEOUT=1.5 cget "http://$(uaddr "$f"):$P_HTTP/1000" 5 | hist)
	done
	wait $p4 $p6
	[ "$m" = b ] && X[b/adopt]=$(cnt gw_adopted)
	for f in 4 6; do O[$m/adopt/$f]=$(cat "$TMPD/adopt$f"); done
}
cmp_adopt() {
	local f
	for f in 4 6; do
		[[ ${O[a/adopt/$f]} == "ok lines=120 "* ]]
		r=$?
		check "[7] adopt IPv$f routed: ${O[a/adopt/$f]}" $r "${O[a/adopt/$f]}"
		same "[7] adopt IPv$f: a connection opened before attach goes on after it, bytes as routed (${O[b/adopt/$f]})" \
			"${O[b/adopt/$f]}" "${O[a/adopt/$f]}"
		[[ ${O[a/adopt/new/$f]} == "5x 200 rc=0 "* ]]
		r=$?
		check "[7] adopt IPv$f routed: new connections meanwhile: ${O[a/adopt/new/$f]}" $r "${O[a/adopt/new/$f]}"
		same "[7] adopt IPv$f: new connections while the adopt window is open, as routed (${O[b/adopt/new/$f]})" \
			"${O[b/adopt/new/$f]}" "${O[a/adopt/new/$f]}"
	done
	[ "${X[b/adopt]:-0}" -ge 2 ]
	r=$?
	check "[7] adopt: gw_adopted ${X[b/adopt]:-0} after both pre-existing connections went on" $r \
		"gw_adopted ${X[b/adopt]:-0}, want >= 2"
}

# 5a. Closing: 10 connections (curl, HTTP/1.0) close; right after, the
# table holds them closed (gw_closed counted them); within gw-close
# seconds (+3 s of slack for the timer) the table is empty (every other
# connection of the run has ended by then too) and gw_expired counted the
# removals (its help: "or gw-close after closing").
# Breaks when: no state is made (the stub), closing is not seen (FIN
# either way missed: the states stay), or removal never comes.
close_check() {
	local k0 k1 n t out left e0 full
	k0=$(cnts gw_closed); e0=$(cnt gw_expired)
	out=$(cget "http://$GW_SRV4:$P_HTTP/1000" 5; cget "http://[$GW_SRV6]:$P_HTTP/1000" 5)
	n=$(gw_count closed $P_HTTP)
	k1=$(cnts gw_closed)
	# what flows --json says of them: segments both ways, the server
	# half's handshake RTT (fails when the entries are not kept up)
	full=$(xg flows "$GW_IFC" --json 2>/dev/null | jq --argjson p $P_HTTP \
		'[(.interfaces // [.])[] | .flows[]? | select(.sport == $p and .state == "closed" and .c2s_pkts > 0 and .s2c_pkts > 0 and .s_rtt_us != null)] | length' 2>/dev/null)
	[ "$n" -ge 10 ] && [ $((k1 - k0)) -ge 10 ]
	r=$?
	check "[5] close: right after 10 connections closed the table holds $n closed states to port $P_HTTP, gw_closed +$((k1 - k0))" $r \
		"closed states $n, gw_closed +$((k1 - k0)); table: $(states_summary); curl: $(hist <<<"$out")"
	[ "${full:-0}" -ge 10 ]
	r=$?
	check "[5] close: flows --json shows ${full:-0} of them with segments both ways and the server's handshake RTT" $r \
		"${full:-0} such entries: $(xg flows "$GW_IFC" --json 2>&1 | head -c 600)"
	t=$SECONDS
	left=$(gw_count)
	while [ "$left" != 0 ] && [ $((SECONDS - t)) -le $((GW_CLOSE + 3)) ]; do sleep 0.5; left=$(gw_count); done
	[ "$left" = 0 ] && [ -e "$PIN/xdpsyn_gw_conns" ] && [ "$(cnt gw_expired)" -ge $((e0 + n)) ] && [ "$n" -ge 10 ]
	r=$?
	check "[5] close: the state table is empty $((SECONDS - t)) s later (--gw-close $GW_CLOSE), gw_expired +$(( $(cnt gw_expired) - e0 ))" $r \
		"left: $left ($(states_summary)); map pinned: $([ -e "$PIN/xdpsyn_gw_conns" ] && echo yes || echo no); gw_expired +$(( $(cnt gw_expired) - e0 ))"
	out=$(xg flows "$GW_IFC" --json 2>&1)
	jq -e . >/dev/null 2>&1 <<<"$out"
	r=$?
	check "[5] close: xdpsyn flows $GW_IFC --json answers JSON" $r "$(head -c 300 <<<"$out")"
}

# 5b. Idle: attach --gw-idle 3 (an attach of its own), a connection
# exchanges one line and then sits idle; its state is established 1 s in,
# gone within gw-idle (+3 s of slack) and counted gw_expired.
# Breaks when: no state is made, or idle state is never removed.
idle_check() {
	local p e0 n t gone
	gw_detach --flush-state
	if ! gw_attach --gw-idle $GW_IDLE; then bad "[5] idle: attach --gw-idle $GW_IDLE" "$ATTACH_ERR"; return; fi
	e0=$(cnt gw_expired)
	lab_bg "$GW_NS_CLI" "$PY" "$ROOT/tests/e2e/gw_peer.py" persist $GW_SRV4 $P_SVC --lines 1 \
		--hold $((GW_IDLE + 15)) --timeout 30 >/dev/null 2>&1
	p=${LAB_PIDS[-1]}
	sleep 1
	n=$(gw_count established $P_SVC)
	[ "$n" = 1 ]
	r=$?
	check "[5] idle: an idle connection has its established state 1 s in ($n)" $r "table: $(states_summary)"
	t=$SECONDS gone=1
	while [ "$(gw_count "" $P_SVC)" != 0 ]; do
		[ $((SECONDS - t)) -gt $((GW_IDLE + 3)) ] && { gone=0; break; }
		sleep 0.5
	done
	[ $gone = 1 ] && [ "$n" = 1 ] && [ "$(cnt gw_expired)" -gt "$e0" ]
	r=$?
	check "[5] idle: its state removed after $((SECONDS - t + 1)) s idle (--gw-idle $GW_IDLE), gw_expired +$(( $(cnt gw_expired) - e0 ))" $r \
		"table: $(states_summary); gw_expired +$(( $(cnt gw_expired) - e0 ))"
	stop_bg "$p"
	kill_leftovers
}

# ---------------------------------------------------------------------------
# The table: case  families (run in this order in (a) and in (b))
TABLE=(
	"http        4 6"
	"opts        46"
	"timewait    4 6"
	"firstdata   4 6"
	"banner      4 6"
	"closed      4 6"
	"unprotected 4 6"
	"reattach    46"
	"data        46"
	"flood       4 6"
	"forged      4 6"
)
SELECT=("$@")
want() {
	[ ${#SELECT[@]} -eq 0 ] && return 0
	local s; for s in "${SELECT[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1
}
for s in "${SELECT[@]}"; do
	k=0
	for row in "${TABLE[@]}" adopt close idle generic; do [ "${row%% *}" = "$s" ] && k=1; done
	[ $k = 1 ] || { bad "usage" "no case '$s'"; exit 1; }
done

run_phase() { # run_phase MODE
	local m=$1 row name fams f t
	for row in "${TABLE[@]}"; do
		read -r name fams <<<"$row"
		want "$name" || continue
		t=$SECONDS
		for f in $fams; do
			"sc_$name" "$m" "$f"
			kill_leftovers
		done
		[ "${GWTEST_TIMES:-0}" = 1 ] && echo "     ($m $name: $((SECONDS - t)) s)"
	done
}
cmp_phase() {
	local row name fams f
	for row in "${TABLE[@]}"; do
		read -r name fams <<<"$row"
		want "$name" || continue
		case $fams in 46) fams="4 6" ;; esac
		for f in $fams; do "cmp_$name" "$f"; done
	done
}

# ---------------------------------------------------------------------------
for f in "$XDPSYN" build/xdp_pass.bpf.o build/synflood; do
	[ -e "$f" ] || { bad "prerequisite" "$f missing: make all first"; exit 1; }
done
gwlab_up || { bad "gateway lab" "could not build the namespaces"; exit 1; }
srv nft -f - <<<"$NFT_TABLE" || { bad "nft counters" "could not load the server's table"; exit 1; }
# A veth whose peer runs XDP feeds a 256-slot NAPI ring; without a qdisc a
# burst that overflows it is dropped (noise in the retransmission counts);
# with one, veth stops the queue instead (kernel >= 6.16). Every egress of
# the path, both runs (XDP_REDIRECT in (b) bypasses the gateway's).
for d in "$GW_NS_CLI:eth0" "$GW_NS_SRV:$GW_SRV_IF" "$GW_NS_GW:$GW_IFC" "$GW_NS_GW:$GW_IFS" \
	"$GW_NS_SW:pc" "$GW_NS_SW:pa" "$GW_NS_SW:$GW_SWP"; do
	in_ns "${d%%:*}" tc qdisc replace dev "${d#*:}" root pfifo limit 1000
done
if [ "${GWTEST_TX_CSUM_OFF:-0}" = 1 ]; then
	echo "     (diagnosis: tx checksum offload off on the client, attacker and server)"
	cli ethtool -K eth0 tx off >/dev/null
	in_ns "$GW_NS_ATK" ethtool -K eth0 tx off >/dev/null
	srv ethtool -K "$GW_SRV_IF" tx off >/dev/null
fi
lab_bg "$GW_NS_SRV" sleep 100000 # the server namespace's anchor (nst)
SRV_ANCHOR=${LAB_PIDS[-1]}
http_server
lab_bg "$GW_NS_SRV" "$PY" tests/e2e/noharm_server.py $P_OPEN --tag open >/dev/null
lab_bg "$GW_NS_SRV" "$PY" tests/e2e/gw_peer.py serve --svc $P_SVC --banner $P_BANNER >/dev/null
lab_bg "$GW_NS_CLI" sleep 100000 # the client namespace's anchor (nst)
CLI_ANCHOR=${LAB_PIDS[-1]}
for p in $P_OPEN $P_SVC $P_BANNER; do
	wait_listen $p || { bad "servers" "nothing listens on $p"; exit 1; }
done
echo "xdpsyn under test: $XDPSYN$([ "$FAKE" = 1 ] && echo " (GWTEST_FAKE_ATTACH=1: (b) runs with nothing attached)")"

# (a) routed
t=$SECONDS
want adopt && adopt_run a
run_phase a
echo "     (a) routed: $((SECONDS - t)) s"

# (b) through xdpsyn in gateway mode: the adopt case makes the attach
t=$SECONDS
if want adopt; then
	adopt_run b
	# the other cases: --gw-adopt 0 (the state table kept)
	gw_detach || bad "detach after case 7" "$ATTACH_ERR"
	gw_attach || bad "attach in gateway mode" "$ATTACH_ERR"
else
	gw_attach || bad "attach in gateway mode" "$ATTACH_ERR"
fi
if [ $ATTACHED = 1 ] && [ "$FAKE" != 1 ]; then
	st=$(xg status "$GW_IFC" -j 2>/dev/null)
	jq -e '[.. | objects | select(has("gateway")) | .gateway | objects] | length > 0' >/dev/null 2>&1 <<<"$st"
	r=$?
	check "attach: status $GW_IFC --json has a gateway section" $r "$(head -c 300 <<<"$st")"
fi
run_phase b
want adopt && cmp_adopt
cmp_phase
want close && close_check
echo "     (b) gateway, native: $((SECONDS - t)) s"
want idle && idle_check

# generic mode: the http case again
if [ "${GWTEST_GENERIC:-1}" = 1 ] && want generic; then
	gw_detach --flush-state
	if XMODE=generic gw_attach; then
		for f in 4 6; do sc_http b "$f"; kill_leftovers; done
		for f in 4 6; do
			same "[g] generic mode http IPv$f: outcomes and sha256 as routed (${O[b/http/$f]})" "${O[b/http/$f]}" "${O[a/http/$f]}"
		done
		# the flood of case 4, IPv4: none of it at the server (fails when
		# generic XDP passes SYNs on)
		sc_flood b 4
		kill_leftovers
		read -ra xb <<<"${X[b/flood/4]}"
		[ "${xb[0]}" -gt $((FLOOD_N / 2)) ] && [ "${xb[1]}" -eq 0 ] && [[ ${O[b/flood/4]} == "${LEGIT_N}x ok sha="* ]]
		r=$?
		check "[g] generic mode flood IPv4: ${xb[0]} spoofed SYNs sent, ${xb[1]} reached the server; legit ${O[b/flood/4]}" $r \
			"the server received ${xb[1]} of ${xb[0]}; legit: ${O[b/flood/4]}"
	else
		bad "[g] attach --mode generic" "$ATTACH_ERR"
	fi
fi
if [ $ATTACHED = 1 ] || [ -e "$PIN" ]; then
	gw_detach --flush-state
	[ ! -e "$PIN/xdpsyn_gw_conns" ]
	r=$?
	check "detach --flush-state: the state table's pin is gone" $r "$PIN/xdpsyn_gw_conns still there"
fi
[ $FAIL -eq 0 ]
