#!/usr/bin/env bash
# Do no harm: a differential end-to-end suite (issue 12). Every scenario runs
# in the same lab of network namespaces (tests/e2e/lib.sh) first DIRECT,
# with xdpsyn not attached, then THROUGH xdpsyn attached to the server's
# interface under each policy of its row, and asserts that the through run
# ends exactly as the direct one:
#   - the same client-visible outcome of every connection, and the same
#     bytes (checksums of what the client received);
#   - the server's TcpPassiveOpens rising by the same number;
#   - no added retransmission: the same client- and server-side deltas of
#     TcpRetransSegs, TcpExtTCPSynRetrans and TcpExtTCPTimeouts (nstat's
#     counters, read from /proc/PID/net of a process in each namespace);
#   - whatever else the scenario observes (options negotiated, another TC
#     program's counters, SYN-ACKs and RSTs on the wire) the same.
# Nothing is hard-coded: the direct run is the reference. The check names
# carry both figures ("through X, direct Y").
#
# Policies: proxy (the default); auto (--policy auto --syn-rate 1000000:
# tracks); autoproxy (--policy auto --syn-rate 1 --calm 3600, pushed into
# its proxy state by a few connections before the measured ones).
#
# Scenarios (issue 12's table; the TABLE below, each in IPv4 and IPv6):
# 1 batch, 2 timewait, 3 mptcp, 4 opts, 5 nocookies, 6 other (classic and
# tcx TC programs), 7 probes/closed/container, 8 keyrace (an invariant, no
# direct run), 10 switch (SYN retransmission across a policy switch). Case 9
# is documentation only.
#
# Usage: tests/e2e/test_noharm.sh [SCENARIO...]   (default: all; a
# scenario name from the table, e.g. "batch" or "opts"). XDPSYN=path picks
# the binary under test (default build/xdpsyn). Ends with one line
# "N passed, N failed"; exit 1 on any failure; SKIP (exit 77) without root.
# Knobs: NOHARM_TIMES=1 prints each run's duration; NOHARM_BATCH_HOLD_US
# (200), NOHARM_SYSCTL_SETTLE (1 s), NOHARM_KEYRACE_ROUNDS (40).
#
# Built here when missing or older than their source (no Makefile rule
# yet): build/noharm_tc.bpf.o, build/noharm_delay.bpf.o, build/tcxload.
# Besides lib.sh's lab it creates only: a container namespace xs-ctr-ID
# (case 7), pins under /sys/fs/bpf/xs-noharm-ID (mounting bpffs there if
# nothing is mounted), a temporary directory; all removed on exit.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: end-to-end tests need root (network namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
source tests/e2e/lib.sh
# the interpreter itself: a version manager's shim can cost a second a start
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
PASS=0 FAIL=0
ok()   { echo "ok   $1"; PASS=$((PASS + 1)); }
bad()  { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
# check NAME CONDITION-EXIT-STATUS DETAIL (compute the name before the
# condition: a $(...) in the arguments would reset $?)
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }
# same NAME THROUGH DIRECT: the through-xdpsyn figure equals the direct one
same() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "through: $2 | direct: $3"; fi; }

PINS=/sys/fs/bpf/xs-noharm-$LAB_ID
TMPD=$(mktemp -d /tmp/xs-noharm.XXXXXX)
T0=$SECONDS
CTR_PIDS=() CTR_UP=""
declare -A ANCHOR # NS -> the pid of a process living in it

finish() {
	local rc=$?
	trap - EXIT
	# our TC/tcx programs: tcx links and maps are pinned under $PINS
	rm -rf "$PINS" 2>/dev/null
	for n in "$NS_SRV" "$NS_CLI"; do
		[ -e "/var/run/netns/$n" ] && in_ns "$n" nft delete table inet xs_noharm 2>/dev/null
	done
	for p in "${CTR_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$NS_CTR" 2>/dev/null
	lab_down
	rm -rf "$TMPD"
	echo "$PASS passed, $FAIL failed"
	[ $FAIL -eq 0 ] && [ $rc -eq 0 ] || exit 1
}
trap finish EXIT
trap 'exit 1' INT TERM

srv() { in_ns "$NS_SRV" "$@"; }
cli() { in_ns "$NS_CLI" "$@"; }
x() { srv "$XDPSYN" "$@"; }

# ---------------------------------------------------------------------------
# Helpers the Makefile builds (make all): the counting and the ACK-holding TC
# programs, and their tc/tcx loader.
TCOBJ=build/noharm_tc.bpf.o
DELAYOBJ=build/noharm_delay.bpf.o
TCXLOAD=build/tcxload
# The servers' ports, all protected: echo (tcpecho), HTTP/1.0 closing first
# (noharm_server.py), an MPTCP listener, one with no listener; the
# container's HTTP server behind the server namespace.
P_ECHO=8080 P_HTTP=8081 P_MPTCP=8082 P_CLOSED=8083 P_CTR=80

setup() {
	local f p
	for f in "$XDPSYN" build/tcpecho build/xdp_pass.bpf.o $TCOBJ $DELAYOBJ $TCXLOAD; do
		[ -e "$f" ] || { bad "prerequisite" "$f missing: make all first"; return 1; }
	done
	# tcx links are pinned on the host's bpffs (xdpsyn mounts it too)
	if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
		mount -t bpf bpf /sys/fs/bpf || { bad "bpffs" "cannot mount /sys/fs/bpf"; return 1; }
	fi
	lab_up || { bad "lab setup" "could not build the namespaces"; return 1; }
	# A veth whose peer runs XDP feeds a 256-slot NAPI ring; without a qdisc
	# a burst that overflows it is dropped: noise in the retransmission
	# counts. With one, veth stops the queue instead (kernel >= 6.16). Both
	# directions of the server's link, in both runs.
	srv tc qdisc replace dev "$SRV_IF" root pfifo limit 1000
	in_ns "$NS_SW" tc qdisc replace dev p_srv root pfifo limit 1000
	SRV_MAC=$(srv ip -br link show dev "$SRV_IF" | awk '{print $3}')
	# Servers and clients run on one CPU: a TCP sender whose segments leave
	# from two CPUs is reordered by the per-CPU backlogs of veth (fast
	# retransmissions, direct or not). Case 1 uses two CPUs on purpose.
	read -ra CPUS <<<"$($PY -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
	PIN=(taskset -c "${CPUS[0]}")
	lab_bg "$NS_SRV" "${PIN[@]}" "$ROOT/build/tcpecho" serve $P_ECHO
	ANCHOR[$NS_SRV]=${LAB_PIDS[-1]}
	lab_bg "$NS_CLI" sleep 100000 # the client namespace's anchor (nst)
	ANCHOR[$NS_CLI]=${LAB_PIDS[-1]}
	lab_bg "$NS_SRV" "${PIN[@]}" $PY tests/e2e/noharm_server.py $P_HTTP --tag srv >/dev/null
	srv sysctl -qw net.mptcp.enabled=1
	lab_bg "$NS_SRV" "${PIN[@]}" $PY tests/e2e/noharm_server.py $P_MPTCP --tag mptcp --mptcp >/dev/null
	for p in $P_ECHO $P_HTTP $P_MPTCP; do
		wait_listen "$NS_SRV" $p || { bad "servers" "nothing listens on $p"; return 1; }
	done
}

# ---------------------------------------------------------------------------
# Measuring

# nst NS: "PassiveOpens RetransSegs SynRetrans Timeouts", absolute: what
# `nstat -az` shows in NS (TcpPassiveOpens, TcpRetransSegs,
# TcpExtTCPSynRetrans, TcpExtTCPTimeouts), read from the same files,
# /proc/PID/net/{snmp,netstat}, of a process living in NS (ANCHOR[NS]):
# no nsenter + nstat pair of processes per reading.
nst() { tcp_counters "${ANCHOR[$1]:-}"; }
# delta "A B C D" "A' B' C' D'": "+dA +dB +dC +dD"
delta() { tcp_delta "$1" "$2" +; }
# hist: one outcome per line on stdin -> "N x line; ..." (sorted)
hist() { outcome_hist; }

# cget URL [N [curl args...]]: N GETs (default 1) by one curl process, one
# connection each (the server closes), one line each:
# "HTTP-CODE rc=CURL-EXIT [sha=HASH12 len=BYTES]" (what the client received)
CG_N=0
cget() {
	local url=$1 n=${2:-1} d codes code rc i=0
	shift; [ $# -gt 0 ] && shift
	CG_N=$((CG_N + 1)); d=$TMPD/cg.$CG_N
	mkdir -p "$d"
	codes=$(cli "${PIN[@]}" curl -s --max-time "${CG_TIMEOUT:-4}" -w '%{http_code} %{exitcode}\n' \
		-o "$d/#1" "$@" "$url?[1-$n]" 2>/dev/null)
	declare -A sha=() len=()
	local f h l
	while read -r h f; do sha[${f##*/}]=${h:0:12}; done < <(sha256sum "$d"/* 2>/dev/null)
	while read -r f l; do len[${f##*/}]=$l; done < <(stat -c '%n %s' "$d"/* 2>/dev/null)
	while read -r code rc; do
		i=$((i + 1))
		if [ "${len[$i]:-0}" -gt 0 ]; then
			echo "$code rc=$rc sha=${sha[$i]} len=${len[$i]}"
		else
			echo "$code rc=$rc"
		fi
	done <<<"$codes"
	[ $i -eq "$n" ] || echo "curl ended after $i of $n transfers"
	rm -rf "$d"
}
addr() { if [ "$FAM" = 4 ]; then echo "$1"; else echo "[$2]"; fi; } # URL host
saddr() { if [ "$FAM" = 4 ]; then echo $SRV4; else echo $SRV6; fi; }

# Leftover client (and server) sockets of a failed run would retransmit
# into the next run's figures: abort them (never TIME_WAIT or listeners).
busy_socks() { # connections in NS other than LISTEN, TIME_WAIT, CLOSE
	local pid=${ANCHOR[$1]:-}
	[ -n "$pid" ] || { echo 1; return; }
	awk 'FNR > 1 && $4 !~ /^(06|07|0A)$/ {n++} END {print n + 0}' \
		"/proc/$pid/net/tcp" "/proc/$pid/net/tcp6"
}
kill_leftovers() {
	local ns
	for ns in "$NS_CLI" "$NS_SRV" ${CTR_UP:+"$NS_CTR"}; do
		[ "$(busy_socks "$ns")" = 0 ] && continue
		in_ns "$ns" ss -K -tn state syn-sent state established state fin-wait-1 \
			state fin-wait-2 state close-wait state last-ack state closing >/dev/null 2>&1
	done
}

# ---------------------------------------------------------------------------
# Attach under a policy

PORTS_EXTRA=""   # a scenario's own protected ports (e.g. 80 for the container)
attach_policy() { # attach_policy POLICY: 0 ok, else R_ERR says why
	local pol=$1 ports="$P_ECHO,$P_HTTP,$P_MPTCP,$P_CLOSED${PORTS_EXTRA:+,$PORTS_EXTRA}" out i
	local -a args=()
	case $pol in
	proxy|'proxy>auto') ;;
	auto|'auto>proxy') args=(--policy auto --syn-rate 1000000) ;;
	autoproxy) args=(--policy auto --syn-rate 1 --calm 3600) ;;
	*) R_ERR="unknown policy $pol"; return 1 ;;
	esac
	out=$(x attach "$SRV_IF" --ports "$ports" "${args[@]}" 2>&1) ||
		{ R_ERR="xdpsyn attach failed: $out"; return 1; }
	[ "$pol" = autoproxy ] || return 0
	# a few connections push auto into its proxy state (SYN rate >= 1/s)
	for i in 1 2 3 4 5; do
		cli "$ROOT/build/tcpecho" client $SRV4 $P_ECHO -n 10 -b 10 -q >/dev/null 2>&1
		[ "$(x status "$SRV_IF" -j 2>/dev/null | jq -r '.policy.state // empty')" = proxy ] && return 0
		sleep 0.2
	done
	R_ERR="could not push --policy auto --syn-rate 1 into proxy: $(x status "$SRV_IF" -j | jq -c .policy)"
	return 1
}

# ---------------------------------------------------------------------------
# The runner. A scenario NAME defines sc_NAME_work (one family: prints one
# outcome line per connection or probe on stdout; may set EXTRA to other
# figures) and may define sc_NAME_prep / _done (once per row, around all its
# runs), sc_NAME_pre (before attach), sc_NAME_post (after attach),
# sc_NAME_undo (after the work, before detach), sc_NAME_sane (is the direct
# outcome what the scenario needs?). They see FAM (4|6, in work), MODE
# (direct or the policy), ARGS (the row's parameters) and THROUGH (0|1).
# COUNT_NS is the namespace whose PassiveOpens count (default the server's);
# SKIP_SRV_RTX=1 leaves the server's retransmissions out of the comparison,
# NO_DATA_RTX=1 the retransmitted data segments (SYN retransmissions and
# RTOs still count); the scenario says why. One attach serves both
# families of a row, each measured on its own (counters read before and
# after its work).
hook() { local f="sc_${SC}_$1"; shift; if declare -F "$f" >/dev/null; then "$f" "$@"; fi; }
declare -A R_OUT R_SRV R_CLI R_EXTRA D_OUT D_SRV D_CLI D_EXTRA

run_once() { # run_once MODE FAMILY...: sets R_*[FAM] and R_ERR; 1 = run failed
	MODE=$1; shift
	THROUGH=1; [ "$MODE" = direct ] && THROUGH=0
	R_ERR="" R_OUT=() R_SRV=() R_CLI=() R_EXTRA=()
	local ns
	for ns in "${COUNT_NS:-$NS_SRV}" "$NS_CLI"; do
		[ -r "/proc/${ANCHOR[$ns]:-0}/net/snmp" ] ||
			{ R_ERR="no process left in $ns to read its counters from"; return 1; }
	done
	hook pre
	if [ $THROUGH = 1 ] && ! attach_policy "$MODE"; then
		hook undo; x detach "$SRV_IF" >/dev/null 2>&1
		return 1
	fi
	hook post
	local s0 c0 s1 c1
	for FAM in "$@"; do
		EXTRA=""
		s0=$(nst "${COUNT_NS:-$NS_SRV}"); c0=$(nst "$NS_CLI")
		hook work >"$TMPD/out"
		sleep 0.15 # the last ACKs
		s1=$(nst "${COUNT_NS:-$NS_SRV}"); c1=$(nst "$NS_CLI")
		R_OUT[$FAM]=$(hist <"$TMPD/out")
		R_SRV[$FAM]=$(delta "$s0" "$s1"); R_CLI[$FAM]=$(delta "$c0" "$c1")
		R_EXTRA[$FAM]=$EXTRA
		kill_leftovers
	done
	hook undo
	if [ $THROUGH = 1 ]; then
		local out
		out=$(x detach "$SRV_IF" 2>&1) || { R_ERR="xdpsyn detach failed: $out"; return 1; }
	fi
	return 0
}

# rtx "OPENS RTX SYNRTX RTO" -> "rtx +a synrtx +b rto +c"; the comparison
# leaves out all retransmitted segments (rtx) when NO_DATA_RTX=1
rtx() { local a; read -ra a <<<"$1"; echo "rtx ${a[1]} synrtx ${a[2]} rto ${a[3]}"; }
rtx_cmp() { local a; read -ra a <<<"$1"; if [ "${NO_DATA_RTX:-0}" = 1 ]; then
	echo "synrtx ${a[2]} rto ${a[3]}"; else rtx "$1"; fi; }
opens() { local a; read -ra a <<<"$1"; echo "${a[0]}"; }

run_row() { # run_row SCENARIO[:ARG...] FAMILIES POLICIES...
	local spec=$1 fams pol name t tr dr f
	read -ra fams <<<"${2//,/ }"; shift 2
	SC=${spec%%:*}; ARGS=""; [[ $spec == *:* ]] && ARGS=${spec#*:}
	COUNT_NS="" SKIP_SRV_RTX=0 NO_DATA_RTX=0 PORTS_EXTRA="" R_ERR=""
	local tag="[$(hook case)] $spec"
	if ! hook prep; then
		bad "$tag" "scenario set-up failed: $R_ERR"; hook done; return
	fi
	t=$SECONDS
	if ! run_once direct "${fams[@]}"; then
		bad "$tag direct" "${R_ERR:-run failed}"; hook done; return
	fi
	for f in "${fams[@]}"; do
		D_OUT[$f]=${R_OUT[$f]} D_SRV[$f]=${R_SRV[$f]} D_CLI[$f]=${R_CLI[$f]} D_EXTRA[$f]=${R_EXTRA[$f]}
		name="$tag IPv$f"
		echo "     $name direct: ${D_OUT[$f]} | srv opens $(opens "${D_SRV[$f]}") $(rtx "${D_SRV[$f]}") | cli $(rtx "${D_CLI[$f]}")${D_EXTRA[$f]:+ | ${D_EXTRA[$f]}}"
		hook sane "${D_OUT[$f]}" "${D_EXTRA[$f]}" ||
			bad "$name direct" "the direct run is not what the scenario needs: ${D_OUT[$f]}"
	done
	[ "${NOHARM_TIMES:-0}" = 1 ] && echo "     (direct: $((SECONDS - t)) s)"
	for pol in "$@"; do
		t=$SECONDS
		if ! run_once "$pol" "${fams[@]}"; then
			bad "$tag $pol" "${R_ERR:-run failed}"; continue
		fi
		for f in "${fams[@]}"; do
			name="$tag IPv$f $pol"
			same "$name: connections and bytes as direct (${R_OUT[$f]})" "${R_OUT[$f]}" "${D_OUT[$f]}"
			same "$name: PassiveOpens $(opens "${R_SRV[$f]}"), direct $(opens "${D_SRV[$f]}")" \
				"$(opens "${R_SRV[$f]}")" "$(opens "${D_SRV[$f]}")"
			tr="cli $(rtx_cmp "${R_CLI[$f]}")" dr="cli $(rtx_cmp "${D_CLI[$f]}")"
			if [ "$SKIP_SRV_RTX" = 0 ]; then
				tr+=", srv $(rtx_cmp "${R_SRV[$f]}")"; dr+=", srv $(rtx_cmp "${D_SRV[$f]}")"
			fi
			same "$name: retransmissions $tr (direct: same)" "$tr" "$dr"
			if [ -n "${D_EXTRA[$f]}${R_EXTRA[$f]}" ]; then
				same "$name: ${R_EXTRA[$f]} (direct: same)" "${R_EXTRA[$f]}" "${D_EXTRA[$f]}"
			fi
		done
		[ "${NOHARM_TIMES:-0}" = 1 ] && echo "     ($pol: $((SECONDS - t)) s)"
	done
	hook done
}

# ---------------------------------------------------------------------------
# 1. Final ACK and the client's first data in one receive batch: 300
# echo connections (build/tcpecho, which writes as soon as connect returns),
# three clients at a time.
# On this lab a handshake completes inside the client's connect() on one
# CPU, so the final ACK is processed before the data is even sent. Two
# things make the batching that multi-queue NICs, GRO and interrupt
# coalescing make in production: Receive Packet Steering (the client runs
# on CPU A, its interface's receive, the SYN-ACK, is steered to CPU A, the
# switch port's receive from the client to CPU B), and a slow switch port
# (tests/e2e/noharm_delay.bpf.c holds each connection's first pure ACK for
# 200 us in CPU B's softirq). The request, sent meanwhile from CPU A, queues
# in CPU B's backlog behind the ACK and both reach the server in one NAPI
# batch: TC runs for both before TCP sees either. The old build hands most
# of them off twice (PassiveOpens +500 for 300).
BATCH_HOLD_US=${NOHARM_BATCH_HOLD_US:-200}
rps() { # rps NS IFACE MASK
	in_ns "$1" unshare -m sh -c "mount -t sysfs sysfs /sys && echo $3 > /sys/class/net/$2/queues/rx-0/rps_cpus"
}
held() { $TCXLOAD count "$PINS/delay" | sed -E 's/^fin=([0-9]+).*/\1/'; }
sc_batch_case() { echo 1; }
sc_batch_prep() {
	if [ ${#CPUS[@]} -lt 2 ] || [ "${CPUS[0]}" -ge 31 ] || [ "${CPUS[1]}" -ge 31 ]; then
		R_ERR="needs two CPUs numbered below 31 (has: ${CPUS[*]})"; return 1
	fi
	rps "$NS_CLI" eth0 "$(printf %x $((1 << CPUS[0])))" &&
		rps "$NS_SW" p_cli "$(printf %x $((1 << CPUS[1])))" ||
		{ R_ERR="cannot set rps_cpus"; return 1; }
	mkdir -p "$PINS"
	in_ns "$NS_SW" $TCXLOAD tc p_cli ingress $DELAYOBJ "$PINS/delay" $P_ECHO 1 "$BATCH_HOLD_US" ||
		{ R_ERR="cannot attach $DELAYOBJ to p_cli"; return 1; }
}
sc_batch_done() {
	in_ns "$NS_SW" $TCXLOAD untc p_cli ingress 1
	rm -rf "$PINS/delay"
	rps "$NS_CLI" eth0 0; rps "$NS_SW" p_cli 0
}
sc_batch_sane() { [ "$1" = "3x ok=100 failed=0" ] && [ "$2" = "final ACKs held by the switch port +300" ]; }
sc_batch_work() {
	local h0 i p=()
	h0=$(held)
	for i in 1 2 3; do
		cli taskset -c "${CPUS[0]}" "$ROOT/build/tcpecho" client "$(saddr)" $P_ECHO \
			-n 100 -b 100 -t 5000 -q >"$TMPD/batch.$i" &
		p+=($!)
	done
	wait "${p[@]}"
	sed -E 's/ p50_ms.*//' "$TMPD"/batch.[123]
	EXTRA="final ACKs held by the switch port +$(( $(held) - h0 ))"
}

# 2. TIME_WAIT reuse: the server closes first (HTTP/1.0), the client comes
# back from the same port three times; each run its own port, above the
# ephemeral range (32768-60999) that other clients' TIME_WAITs may hold.
LPORT=61000
sc_timewait_case() { echo 2; }
sc_timewait_work() {
	LPORT=$((LPORT + 1))
	local i
	for i in 1 2 3; do # three clients, one after the other
		CG_TIMEOUT=4 cget "http://$(addr $SRV4 $SRV6):$P_HTTP/2000" 1 --local-port $LPORT
	done
}

# 3. An MPTCP listener (IPPROTO_MPTCP), plain TCP clients.
sc_mptcp_case() { echo 3; }
sc_mptcp_work() {
	cget "http://$(addr $SRV4 $SRV6):$P_MPTCP/5000" 20
}

# 4. Server sysctls off: ARGS = SYSCTL:before|after (set before or after
# attach). The options negotiated, as the client's TCP_INFO sees them.
SYSCTL_SETTLE=${NOHARM_SYSCTL_SETTLE:-1} # s for xdpsyn to notice a change
sc_opts_case() { echo 4; }
sc_opts_set() { srv sysctl -qw "net.ipv4.${ARGS%%:*}=$1"; }
sc_opts_prep() { OPT_SAVED=$(srv sysctl -n "net.ipv4.${ARGS%%:*}"); }
sc_opts_pre() { [ "${ARGS#*:}" = before ] && sc_opts_set 0; return 0; }
sc_opts_post() {
	[ "${ARGS#*:}" = after ] || return 0
	sc_opts_set 0
	[ $THROUGH = 1 ] && sleep "$SYSCTL_SETTLE"
	return 0
}
sc_opts_undo() { sc_opts_set "$OPT_SAVED"; }
sc_opts_work() {
	cli "${PIN[@]}" $PY tests/e2e/noharm_client.py "$(saddr)" $P_HTTP -n 5 --size 3000 --timeout 4
}

# 5. tcp_syncookies=0 set after attach.
sc_nocookies_case() { echo 5; }
sc_nocookies_post() {
	srv sysctl -qw net.ipv4.tcp_syncookies=0
	[ $THROUGH = 1 ] && sleep "$SYSCTL_SETTLE"
	return 0
}
sc_nocookies_undo() { srv sysctl -qw net.ipv4.tcp_syncookies=1; }
sc_nocookies_work() {
	cget "http://$(addr $SRV4 $SRV6):$P_HTTP/3000" 5
}

# 6. Another TC program on the interface (tests/e2e/noharm_tc.bpf.c): it
# counts the FINs and payload bytes to (ingress) or from (egress) the HTTP
# port and returns 0, TC_ACT_OK / TCX_PASS, which ends the chain.
# ARGS = KIND:DIR:WHEN, KIND tc@PRIO (classic clsact filter) or tcx
# (appended link), WHEN before|after (xdpsyn's attach).
sc_other_case() { echo 6; }
other_attach() {
	local kind dir
	IFS=: read -r kind dir _ <<<"$ARGS"
	mkdir -p "$PINS"
	if [ "$kind" = tcx ]; then
		srv $TCXLOAD tcx "$SRV_IF" "$dir" $TCOBJ "$PINS/other" $P_HTTP
	else
		srv $TCXLOAD tc "$SRV_IF" "$dir" $TCOBJ "$PINS/other" $P_HTTP "${kind#tc@}"
	fi
}
other_detach() {
	local kind dir
	IFS=: read -r kind dir _ <<<"$ARGS"
	[ "$kind" = tcx ] || srv $TCXLOAD untc "$SRV_IF" "$dir" "${kind#tc@}"
	rm -rf "$PINS/other"
}
other_count() { $TCXLOAD count "$PINS/other" | awk '{print $1, $2}'; }
sc_other_pre() { [ "${ARGS##*:}" = before ] || return 0; other_attach; }
sc_other_post() { [ "${ARGS##*:}" = after ] || return 0; other_attach; }
sc_other_undo() { other_detach; }
sc_other_work() {
	local c0 c1
	c0=$(other_count)
	cget "http://$(addr $SRV4 $SRV6):$P_HTTP/4000" 10
	sleep 0.2
	c1=$(other_count)
	EXTRA="other program saw $(awk -v a="$c0" -v b="$c1" 'BEGIN {
		split(a, x, /[= ]/); split(b, y, /[= ]/)
		printf "%s=+%d %s=+%d", y[1], y[2] - x[2], y[3], y[4] - x[4] }')"
}

# 7. SYNs the kernel would never answer (a, b), sent by the attacker's
# namespace with noharm_probe.py to the HTTP port (which has a listener):
# to the broadcast MAC, a subnet broadcast, a multicast MAC (with a lab
# address: the network rule; multicast IP destinations are the unit and
# fuzz tests' job, which send nothing), another host's MAC (flooded by the bridge as unknown unicast), an
# address nobody owns with the server's MAC (the server does not forward
# here), from martian sources (0.0.0.0, 127.0.0.1, ::, ::1, the server's own
# address); and one ordinary SYN as a control. What the server sends back
# is counted on the switch's port facing it, which sees it even when the
# bridge then drops it (a reply from a broadcast source MAC).
sc_probes_case() { echo 7; }
sc_probes_work() {
	local p=()
	if [ "$FAM" = 4 ]; then
		p=("unicast-control=$SRV_MAC,$ATK4,$SRV4"
		   "l2-broadcast=ff:ff:ff:ff:ff:ff,$ATK4,$SRV4"
		   "subnet-broadcast=ff:ff:ff:ff:ff:ff,$ATK4,10.201.255.255"
		   "multicast-mac=01:00:5e:00:00:01,$ATK4,$SRV4"
		   "other-host-mac=02:00:0a:c9:00:63,$ATK4,$SRV4"
		   "not-local-10.201.0.99=$SRV_MAC,$ATK4,10.201.0.99"
		   "src-0.0.0.0=$SRV_MAC,0.0.0.0,$SRV4"
		   "src-127.0.0.1=$SRV_MAC,127.0.0.1,$SRV4"
		   "src-self=$SRV_MAC,$SRV4,$SRV4")
	else
		p=("unicast-control=$SRV_MAC,$ATK6,$SRV6"
		   "l2-broadcast=ff:ff:ff:ff:ff:ff,$ATK6,$SRV6"
		   "multicast-mac=33:33:00:00:00:01,$ATK6,$SRV6"
		   "other-host-mac=02:00:0a:c9:00:63,$ATK6,$SRV6"
		   "not-local-::99=$SRV_MAC,$ATK6,fd00:201::99"
		   "src-::=$SRV_MAC,::,$SRV6"
		   "src-::1=$SRV_MAC,::1,$SRV6"
		   "src-self=$SRV_MAC,$SRV6,$SRV6")
	fi
	in_ns "$NS_ATK" $PY tests/e2e/noharm_probe.py -i eth0 --dport $P_HTTP --wait 0.5 \
		--sniff-netns "/var/run/netns/$NS_SW" --sniff-iface p_srv "${p[@]}"
}
sc_probes_sane() { [[ $1 == *"unicast-control synack=1 rst=0"* ]]; }

# 7c. A protected port nobody listens on: the kernel resets the SYN, the
# client's connect() is refused (curl cannot tell that from a connection
# reset right after it was made: noharm_client.py can).
sc_closed_case() { echo 7; }
sc_closed_work() {
	cli "${PIN[@]}" $PY tests/e2e/noharm_client.py "$(saddr)" $P_CLOSED -n 3 --timeout 3
}

# 7d. A container behind the server: the server forwards to namespace ctr
# (10.201.64.2/24, fd00:201::64:2/112; the client routes those via the
# server, more specific than its /16 and /64), xdpsyn on the server's
# uplink protects port 80 and the container listens on 80. ARGS=srv80: the
# server itself also listens on port 80 (wildcard), with other content.
sc_container_case() { echo 7; }
sc_container_prep() {
	# 1 MB through a forwarding hop: a loss probe (TLP) now and then when the
	# client's ACK is late on a loaded machine, direct or not. Data
	# retransmissions are shown, not compared; SYN retransmissions and RTOs
	# are.
	PORTS_EXTRA=$P_CTR COUNT_NS=$NS_CTR NO_DATA_RTX=1
	CTR_UP=1 # kill_leftovers looks there from now on
	container_up || { R_ERR="container namespace set-up (lib.sh container_up)"; return 1; }
	CTR_PIDS=()
	nsenter --net=/var/run/netns/"$NS_CTR" "${PIN[@]}" $PY tests/e2e/noharm_server.py $P_CTR --tag ctr >/dev/null &
	CTR_PIDS+=($!)
	ANCHOR[$NS_CTR]=$!
	if [ "$ARGS" = srv80 ]; then
		nsenter --net=/var/run/netns/"$NS_SRV" "${PIN[@]}" $PY tests/e2e/noharm_server.py $P_CTR --tag srv80 >/dev/null &
		CTR_PIDS+=($!)
		wait_listen "$NS_SRV" $P_CTR || { R_ERR="server on $P_CTR"; return 1; }
	fi
	wait_listen "$NS_CTR" $P_CTR || { R_ERR="container server"; return 1; }
	container_ping
}
sc_container_done() {
	local p
	for p in "${CTR_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	CTR_PIDS=() CTR_UP=""
	container_down
	PORTS_EXTRA="" COUNT_NS=""
}
sc_container_work() {
	local s0 s1
	s0=$(nst "$NS_SRV")
	CG_TIMEOUT=5 cget "http://$(addr $CTR4 $CTR6):$P_CTR/1048576" 5
	s1=$(nst "$NS_SRV")
	EXTRA="the server's own PassiveOpens +$(( $(opens "$s1") - $(opens "$s0") ))"
}
sc_container_sane() { [[ $1 == "5x 200 rc=0 "* ]]; }

# 10. SYN retransmission across a switch of policy. The client's first
# SYN-ACK is dropped (nft in the client's namespace, as a lossy path would;
# every SYN-ACK of the tuple is dropped until the client has retransmitted
# its SYN, so the client's retransmission is exactly one, whichever of its
# timer and the server's fires first), and the policy switches while the
# client waits:
#   auto>proxy: attached with the auto policy, tracking (the kernel answered
#     the first SYN and holds a request socket), then `xdpsyn set
#     policy=proxy` before the client's SYN retransmission;
#   proxy>auto: attached proxy (xdpsyn answered the first SYN with a
#     cookie), then `xdpsyn set policy=auto syn-rate=1000000` (tracking).
# (A switch made by `set` rather than by the SYN rate, so that it falls
# between the SYN and its retransmission every time.) On this lab the old
# build passes auto>proxy: the server's SYN-ACK timer and the client's SYN
# timer expire in the same timer-wheel tick, so the kernel's own SYN-ACK
# retransmission reaches the client before the cookie SYN-ACK xdpsyn sends
# in answer to the retransmitted SYN; with more RTT between them it would
# not.
# The server's own retransmissions are left out: its SYN-ACK timer and the
# client's SYN timer race by design (and under proxy there is no server
# SYN-ACK to retransmit).
sc_switch_case() { echo 10; }
sc_switch_prep() {
	SKIP_SRV_RTX=1
	cli nft -f - <<EOF
table inet xs_noharm {
	set syn4 { type ipv4_addr . inet_service; flags dynamic; timeout 30s; }
	set rtx4 { type ipv4_addr . inet_service; flags dynamic; timeout 30s; }
	set syn6 { type ipv6_addr . inet_service; flags dynamic; timeout 30s; }
	set rtx6 { type ipv6_addr . inet_service; flags dynamic; timeout 30s; }
	chain out {
		type filter hook output priority 0;
		ip daddr $SRV4 tcp dport $P_HTTP tcp flags & (syn | ack) == syn ip daddr . tcp sport @syn4 add @rtx4 { ip daddr . tcp sport }
		ip daddr $SRV4 tcp dport $P_HTTP tcp flags & (syn | ack) == syn add @syn4 { ip daddr . tcp sport }
		ip6 daddr $SRV6 tcp dport $P_HTTP tcp flags & (syn | ack) == syn ip6 daddr . tcp sport @syn6 add @rtx6 { ip6 daddr . tcp sport }
		ip6 daddr $SRV6 tcp dport $P_HTTP tcp flags & (syn | ack) == syn add @syn6 { ip6 daddr . tcp sport }
	}
	chain in {
		type filter hook input priority 0;
		ip saddr $SRV4 tcp sport $P_HTTP tcp flags & (syn | ack) == syn | ack ip saddr . tcp dport != @rtx4 counter drop
		ip6 saddr $SRV6 tcp sport $P_HTTP tcp flags & (syn | ack) == syn | ack ip6 saddr . tcp dport != @rtx6 counter drop
	}
}
EOF
}
sc_switch_done() { cli nft delete table inet xs_noharm 2>/dev/null; return 0; }
sc_switch_work() {
	local f=$TMPD/switch.out
	CG_TIMEOUT=8 cget "http://$(addr $SRV4 $SRV6):$P_HTTP/100000" >"$f" &
	local cp=$!
	sleep 0.4 # the first SYN was answered, its SYN-ACK dropped
	case $MODE in
	'auto>proxy') x set "$SRV_IF" policy=proxy >/dev/null ;;
	'proxy>auto') x set "$SRV_IF" policy=auto syn-rate=1000000 >/dev/null ;;
	esac
	wait $cp
	cat "$f"
}
sc_switch_sane() { [[ $1 == "1x 200 rc=0 "* ]]; }

# ---------------------------------------------------------------------------
# The table: scenario[:args]  families  policies
TABLE=(
	"batch                   4,6 proxy auto autoproxy"
	"timewait                4,6 proxy auto autoproxy"
	"mptcp                   4,6 proxy auto autoproxy"
	"opts:tcp_timestamps:after     4,6 proxy auto"
	"opts:tcp_timestamps:before    4,6 proxy"
	"opts:tcp_sack:after           4,6 proxy auto"
	"opts:tcp_sack:before          4,6 proxy"
	"opts:tcp_window_scaling:after  4,6 proxy auto"
	"opts:tcp_window_scaling:before 4,6 proxy"
	"nocookies               4,6 proxy auto"
	"other:tc@50000:ingress:after  4,6 proxy auto"
	"other:tc@1:ingress:after      4,6 proxy auto"
	"other:tcx:ingress:after       4,6 proxy auto"
	"other:tcx:ingress:before      4,6 proxy auto"
	"other:tc@50000:egress:after   4,6 proxy auto"
	"other:tcx:egress:after        4,6 proxy auto"
	"probes                  4,6 proxy auto autoproxy"
	"closed                  4,6 proxy auto autoproxy"
	"container               4,6 proxy auto"
	"container:srv80         4,6 proxy auto"
	"switch                  4,6 auto>proxy proxy>auto"
)

# 8. `xdpsyn set` and `xdpsyn key rotate` at the same time: afterwards the
# key in force must be the last one rotated in (read from the pinned maps:
# the config's current slot, and the bytes in that slot of xdpsyn_keys).
KEYRACE_ROUNDS=${NOHARM_KEYRACE_ROUNDS:-40}
key_cur() { # the current key slot: the config map (BTF), else status -j
	local v
	v=$(bpftool map dump pinned "/sys/fs/bpf/xdpsyn/$SRV_IF/xdpsyn_config" -j 2>/dev/null |
		jq -r '.[0].formatted.value.key_cur // empty' 2>/dev/null)
	[ -n "$v" ] || v=$(x status "$SRV_IF" -j | jq -r '.key_slot // empty')
	echo "$v"
}
key_in_slot() { # the first 16 bytes of slot N of xdpsyn_keys, hex
	bpftool map lookup pinned "/sys/fs/bpf/xdpsyn/$SRV_IF/xdpsyn_keys" key "$1" 0 0 0 -j 2>/dev/null |
		jq -r '.value[0:16] | map(ltrimstr("0x")) | join("")'
}
keyrace() {
	local name="[8] keyrace" r out kf want slot got reverted=() errs=0
	if ! out=$(x attach "$SRV_IF" --ports "$P_HTTP" 2>&1); then
		bad "$name" "xdpsyn attach failed: $out"; return
	fi
	for r in $(seq "$KEYRACE_ROUNDS"); do
		kf=$TMPD/key.$r
		(umask 077; head -c 16 /dev/urandom >"$kf")
		local pids=() p
		x set "$SRV_IF" window=$((1000 + r)) >/dev/null 2>&1 & pids+=($!)
		x set "$SRV_IF" ttl=$((32 + r)) >/dev/null 2>&1 & pids+=($!)
		x key rotate "$SRV_IF" --key-file "$kf" >/dev/null 2>&1 & pids+=($!)
		x set "$SRV_IF" mss4=$((1300 + r)) >/dev/null 2>&1 & pids+=($!)
		x set "$SRV_IF" window=$((2000 + r)) >/dev/null 2>&1 & pids+=($!)
		for p in "${pids[@]}"; do wait "$p" || errs=$((errs + 1)); done
		want=$(od -An -tx1 -v "$kf" | tr -d ' \n')
		slot=$(key_cur); got=$(key_in_slot "${slot:-0}")
		[ -n "$slot" ] && [ "$got" = "$want" ] || reverted+=("$r(slot=$slot)")
	done
	[ $errs -eq 0 ]
	check "$name: $KEYRACE_ROUNDS rounds of four xdpsyn set and one key rotate at once: every command succeeded" $? \
		"$errs commands failed"
	[ ${#reverted[@]} -eq 0 ]
	check "$name: after every round the key in force is the one just rotated in (not in ${#reverted[@]}/$KEYRACE_ROUNDS)" $? \
		"rounds where the current slot does not hold the last key: ${reverted[*]}"
	out=$(cget "http://$SRV4:$P_HTTP/1000")
	[[ $out == "200 rc=0 "* ]]
	check "$name: a connection through xdpsyn after the race ($out)" $? "$out"
	out=$(x detach "$SRV_IF" 2>&1) || bad "$name" "detach failed: $out"
}

# ---------------------------------------------------------------------------
want() { # want NAME: run it? (no arguments: everything)
	[ ${#SELECT[@]} -eq 0 ] && return 0
	local s; for s in "${SELECT[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1
}
SELECT=("$@")
for s in "${SELECT[@]}"; do
	known=0
	for row in "${TABLE[@]}" keyrace; do [ "${row%%[: ]*}" = "$s" ] && known=1; done
	[ $known = 1 ] || { bad "usage" "no scenario '$s' (see the table in $0)"; exit 1; }
done
setup || exit 1
echo "xdpsyn under test: $XDPSYN"
for row in "${TABLE[@]}"; do
	read -ra f <<<"$row"
	want "${f[0]%%:*}" || continue
	run_row "${f[@]}"
done
want keyrace && keyrace
echo "     test_noharm: $((SECONDS - T0)) s"
[ $FAIL -eq 0 ]
