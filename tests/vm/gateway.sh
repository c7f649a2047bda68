# Gateway mode in the kernel VMs (sourced by tests/vm/suite.sh; issue 16):
# xdpsyn attached with --gateway on a forwarding namespace between a client
# and a server, in native mode, on Debian's 6.1 and 6.12 kernels.
#
#   client ns              gateway ns (forwards v4+v6)               server ns
#   eth0 (xdp_pass) <----> GWV_IFC  [xdpsyn --gateway GWV_IFS]  GWV_IFS <----> eth0 (xdp_pass)
#   10.201.30.2/24         10.201.30.1/24            10.201.31.1/24        10.201.31.2/24
#   fd00:201::30:2/112     fd00:201::30:1/112        fd00:201::31:1/112    fd00:201::31:2/112
#                                                                          tcpecho PORT
#
# xdp_pass on both end hosts' veths: the gateway's XDP_TX (cookie SYN-ACKs)
# and XDP_REDIRECT (translated segments) into a veth are delivered only
# when its peer runs XDP (DESIGN.md). Routes: only the other side's prefix
# via the gateway, no default route.
#
#   gateway_direct   (before any attach) N + N connections v4/v6 routed
#                    through the gateway: the reference
#   gateway_attach_start  the attach --gateway, queued on vlan.sh's
#                    extra_attach_run (its verifier runs while the core's
#                    connections do)
#   gateway_checks   the attach's result; the same connections through
#                    xdpsyn's gateway as direct (outcomes, the options the
#                    server's sockets got, PassiveOpens, handshake
#                    retransmissions), the gw_* counters; a transfer each
#                    family under netem (loss, delay, reordering) on the
#                    END hosts' egress (XDP_REDIRECT bypasses the gateway's
#                    qdiscs), byte-exact; no TCP checksum errors; detach
#                    leaving both interfaces clean, --flush-state the pins
#
# Checksums: the connections compared with direct run with veth's defaults
# (frames from the end hosts' stacks carry CHECKSUM_PARTIAL: the gateway
# must leave the field and pass them to the kernel, XDPSYN_GWCFG_VETH);
# the netem transfer with tx, tso and gso off on the end hosts (full
# checksums, updated per RFC 1624 and sent with XDP_REDIRECT; segments of
# the MTU, so the loss hits data). When the server counts checksum errors
# a diagnostic (a note, undone) repeats two connections with tx off.
#
# Needs the suite's ok/bad/check/note, kver_ge, PORT, lab_bg, tcp_counters
# and outcome_hist (tests/e2e/lib.sh), and sch_netem (in the initramfs).

GWV_NS_C=xs-gwc-$LAB_ID GWV_NS_G=xs-gwg-$LAB_ID GWV_NS_S=xs-gws-$LAB_ID
GWV_IFC=xgc-$LAB_ID GWV_IFS=xgs-$LAB_ID # per-run names: xdpsyn pins by name
GWV_C4=10.201.30.2 GWV_GC4=10.201.30.1 GWV_GS4=10.201.31.1 GWV_S4=10.201.31.2
GWV_C6=fd00:201::30:2 GWV_GC6=fd00:201::30:1 GWV_GS6=fd00:201::31:1 GWV_S6=fd00:201::31:2
GWV_SERVERS=10.201.31.0/24,fd00:201::31:0/112
GWV_N=${GWV_N:-5}                     # connections each family, 64 KiB echoed each
GWV_BIG=${GWV_BIG:-2097152}           # the netem transfer, bytes each way
GWV_NETEM="loss 1% delay 1ms reorder 10% 50%"
GWV_PINS=/sys/fs/bpf/xdpsyn/$GWV_IFC
GWV_OPTLOG=/tmp/xs-gwv-opts.log
GWV_UP=0 GWV_QUEUED=0 GWV_ATTACHED=0
GWV_FG=0 # seconds this part kept the suite waiting (its attach runs in the background)
GWV_MADE=()
declare -A GWV_PID GWV_D

gc() { nsenter --net=/var/run/netns/"$GWV_NS_C" "$@"; }
gg() { nsenter --net=/var/run/netns/"$GWV_NS_G" "$@"; }
gs() { nsenter --net=/var/run/netns/"$GWV_NS_S" "$@"; }
# XS_GW_ATTACH (xs.gwattach=, commas for spaces; run.sh's
# XS_VM_GW_ATTACH_OPTS): more options for this part's attach
GWV_MORE=${XS_GW_ATTACH:-}; GWV_MORE=${GWV_MORE//,/ }
gwv_attach_args() {
	echo "--ports $PORT --gateway $GWV_IFS --servers $GWV_SERVERS --mode native${GWV_MORE:+ $GWV_MORE}"
}

gwv_lab_up() {
	local ns
	for ns in "$GWV_NS_C" "$GWV_NS_G" "$GWV_NS_S"; do
		ip netns add "$ns" || return 1
		GWV_MADE+=("$ns")
		ip -n "$ns" link set lo up
		nsenter --net=/var/run/netns/"$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 || return 1
	done
	ip -n "$GWV_NS_G" link add "$GWV_IFC" type veth peer name eth0 netns "$GWV_NS_C" || return 1
	ip -n "$GWV_NS_G" link add "$GWV_IFS" type veth peer name eth0 netns "$GWV_NS_S" || return 1
	ip -n "$GWV_NS_G" addr add $GWV_GC4/24 dev "$GWV_IFC"
	ip -n "$GWV_NS_G" addr add $GWV_GC6/112 dev "$GWV_IFC" nodad
	ip -n "$GWV_NS_G" addr add $GWV_GS4/24 dev "$GWV_IFS"
	ip -n "$GWV_NS_G" addr add $GWV_GS6/112 dev "$GWV_IFS" nodad
	ip -n "$GWV_NS_C" addr add $GWV_C4/24 dev eth0
	ip -n "$GWV_NS_C" addr add $GWV_C6/112 dev eth0 nodad
	ip -n "$GWV_NS_S" addr add $GWV_S4/24 dev eth0
	ip -n "$GWV_NS_S" addr add $GWV_S6/112 dev eth0 nodad
	for ns in "$GWV_NS_C" "$GWV_NS_S"; do
		ip -n "$ns" link set dev eth0 xdpdrv obj "$ROOT/build/xdp_pass.bpf.o" sec xdp || return 1
		ip -n "$ns" link set eth0 up || return 1
	done
	ip -n "$GWV_NS_G" link set "$GWV_IFC" up && ip -n "$GWV_NS_G" link set "$GWV_IFS" up || return 1
	ip -n "$GWV_NS_C" route add 10.201.31.0/24 via $GWV_GC4 || return 1
	ip -n "$GWV_NS_C" -6 route add fd00:201::31:0/112 via $GWV_GC6 || return 1
	ip -n "$GWV_NS_S" route add 10.201.30.0/24 via $GWV_GS4 || return 1
	ip -n "$GWV_NS_S" -6 route add fd00:201::30:0/112 via $GWV_GS6 || return 1
	gg sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	: >"$GWV_OPTLOG"
	lab_bg "$GWV_NS_S" "$ROOT/build/tcpecho" serve $PORT "$GWV_OPTLOG"
	GWV_PID[s]=${LAB_PIDS[-1]}
	lab_bg "$GWV_NS_C" sleep 100000 # the client's counters: /proc/PID/net
	GWV_PID[c]=${LAB_PIDS[-1]}
	# both ways through the gateway, and warm neighbour tables
	gc ping -c1 -W2 -q $GWV_S4 >/dev/null 2>&1 || gc ping -c1 -W2 -q $GWV_S4 >/dev/null 2>&1 || return 1
	gc ping -6 -c1 -W2 -q $GWV_S6 >/dev/null 2>&1 || gc ping -6 -c1 -W2 -q $GWV_S6 >/dev/null 2>&1 || return 1
	wait_listen "$GWV_NS_S" $PORT
}

# gwv_snmp PID FIELD...: Tcp: fields of PID's namespace (/proc/PID/net/snmp)
gwv_snmp() {
	local pid=$1; shift
	awk -v want="$*" '$1 == "Tcp:" {
		if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		n = split(want, w, " "); s = ""
		for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") $col[w[i]]
		print s
	}' "/proc/$pid/net/snmp"
}
gwv_csum_errors() { # "client server" InCsumErrors
	echo "$(gwv_snmp "${GWV_PID[c]}" InCsumErrors) $(gwv_snmp "${GWV_PID[s]}" InCsumErrors)"
}
# gwv_counters NAME...: the gw counters of IFACE_C, in order (0 when absent)
gwv_counters() {
	local q="" c
	for c in "$@"; do q+="\(.${c} // 0) "; done
	gg "$XDPSYN" stats "$GWV_IFC" --json 2>/dev/null |
		jq -r "(.interfaces[0] // .).counters | \"${q% }\"" 2>/dev/null
}
GWV_CNT="gw_conn_new gw_server_synack gw_c2s gw_s2c gw_syn_retrans gw_server_synack_dup gw_c2s_no_state gw_s2c_no_state gw_adopt_pass gw_adopted gw_forward_fib gw_forward_kernel gw_table_full gw_server_refused synack_tx ack_invalid"
gwv_cdelta() { # gwv_cdelta "BEFORE" "AFTER": "name=+d ..." for GWV_CNT
	local a b i n=0 out="" c
	read -ra a <<<"$1"; read -ra b <<<"$2"
	for c in $GWV_CNT; do
		out+="$c=+$(( ${b[n]:-0} - ${a[n]:-0} )) "
		n=$((n + 1))
	done
	echo "${out% }"
}
gwv_get() { # gwv_get "DELTAS" NAME: the number
	local d=" $1 "
	d=${d#* $2=+}
	echo "${d%% *}"
}

# gwv_echo ADDR N: N connections to ADDR from the client, 64 KiB echoed
# each: "ok=N failed=N"; one first, and when it fails the others are not
# tried (each failure waits out the timeout)
gwv_echo() {
	local o r ok=0 failed=$(($2 - 1)) rc=0
	o=$(gc "$ROOT/build/tcpecho" client "$1" $PORT -n 1 -b 65536 -t 3000 2>&1) || rc=1
	r=${o##*$'\n'}
	if [ $rc -ne 0 ]; then
		echo "ok=0 failed=1 ($(($2 - 1)) not tried)"
		return 1
	fi
	if [ "$2" -gt 1 ]; then
		o=$(gc "$ROOT/build/tcpecho" client "$1" $PORT -n $(($2 - 1)) -b 65536 -t 3000 2>&1) || rc=1
		r=${o##*$'\n'}
	fi
	[[ $r =~ ok=([0-9]+)\ failed=([0-9]+) ]] && ok=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
	[ "$2" -gt 1 ] || ok=0
	echo "ok=$((ok + 1)) failed=$failed"
	return $rc
}

# gwv_conns: N connections each family through the gateway; GWV_R "v4 OUT
# | v6 OUT | server sockets | PassiveOpens | synrtx" (what must be the
# same direct and through), GWV_INFO the rest
gwv_conns() {
	local s0 c0 s1 c1 o4 o6 rc=0 t0 t1 a
	: >"$GWV_OPTLOG"
	s0=$(tcp_counters "${GWV_PID[s]}"); c0=$(tcp_counters "${GWV_PID[c]}")
	t0=$(cut -d' ' -f1 /proc/uptime)
	o4=$(gwv_echo $GWV_S4 "$GWV_N") || rc=1
	o6=$(gwv_echo $GWV_S6 "$GWV_N") || rc=1
	t1=$(cut -d' ' -f1 /proc/uptime)
	sleep 0.2 # the last ACKs and the server's log lines
	s1=$(tcp_counters "${GWV_PID[s]}"); c1=$(tcp_counters "${GWV_PID[c]}")
	# "PassiveOpens RetransSegs SynRetrans Timeouts" deltas
	read -ra a <<<"$(tcp_delta "$s0" "$s1" +)"
	local srv="opens ${a[0]} synrtx ${a[2]}" srvd="rtx ${a[1]} rto ${a[3]}"
	read -ra a <<<"$(tcp_delta "$c0" "$c1" +)"
	local cli="synrtx ${a[2]}" clid="rtx ${a[1]} rto ${a[3]}"
	GWV_R="v4 $o4 | v6 $o6 | server sockets: $(outcome_hist <"$GWV_OPTLOG") | srv $srv | cli $cli"
	GWV_INFO="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }'); data: srv $srvd, cli $clid"
	return $rc
}

# A diagnostic when the server counted checksum errors (not a check, and
# undone at once): the same with the end hosts computing full checksums
# (ethtool -K eth0 tx off): no CHECKSUM_PARTIAL frames at the gateway
gwv_diag_txoff() {
	local ns e0 e1 o4 o6
	e0=$(gwv_csum_errors)
	for ns in "$GWV_NS_C" "$GWV_NS_S"; do
		nsenter --net=/var/run/netns/"$ns" ethtool -K eth0 tx off >/dev/null 2>&1
	done
	o4=$(gwv_echo $GWV_S4 2); o6=$(gwv_echo $GWV_S6 2)
	e1=$(gwv_csum_errors)
	for ns in "$GWV_NS_C" "$GWV_NS_S"; do
		nsenter --net=/var/run/netns/"$ns" ethtool -K eth0 tx on >/dev/null 2>&1
	done
	note "gateway diagnostic (undone): with 'ethtool -K eth0 tx off' on both end hosts (full checksums, no CHECKSUM_PARTIAL): v4 $o4, v6 $o6; InCsumErrors client server $e0 -> $e1"
}

gateway_up() {
	local rc t0=$SECONDS
	gwv_lab_up; rc=$?
	GWV_FG=$((GWV_FG + SECONDS - t0))
	check "gateway: lab (client, gateway forwarding v4+v6 between $GWV_IFC and $GWV_IFS, server; xdp_pass on the end hosts)" $rc \
		"set-up failed: $(ip netns list | tr '\n' ' ')"
	[ $rc -eq 0 ] && GWV_UP=1
	return 0
}
gateway_direct() { # before any attach: the reference
	[ $GWV_UP = 1 ] || return 0
	local t0=$SECONDS
	gwv_conns
	GWV_FG=$((GWV_FG + SECONDS - t0))
	check "gateway: direct (routed, nothing attached): ${GWV_N}+${GWV_N} connections v4/v6, 64 KiB echoed each ($GWV_R; $GWV_INFO)" $? "$GWV_R"
	GWV_D[conns]=$GWV_R
}
gateway_attach_start() { # queued: tests/vm/vlan.sh's extra_attach_run
	[ $GWV_UP = 1 ] || return 0
	# shellcheck disable=SC2046
	extra_attach gwv "$GWV_NS_G" "$GWV_IFC" $(gwv_attach_args)
	GWV_QUEUED=1
}

gwv_attach_result() { # the queued attach's result, or an attach now
	local out rc secs
	if [ $GWV_QUEUED = 1 ]; then
		extra_attach_wait
		out=$(cat /tmp/xs-gwv.attach 2>/dev/null); rc=$(cat /tmp/xs-gwv.rc 2>/dev/null)
		secs=$(cat /tmp/xs-gwv.secs 2>/dev/null)
	fi
	if [ -z "${rc:-}" ]; then # not queued (the core's attach failed), or it never ran
		local t0=$SECONDS
		# shellcheck disable=SC2046
		out=$(gg "$XDPSYN" attach "$GWV_IFC" $(gwv_attach_args) 2>&1); rc=$?
		secs=$((SECONDS - t0))
	fi
	check "gateway: xdpsyn attach $GWV_IFC $(gwv_attach_args) on $(uname -r) (${secs:-?} s)" "$rc" \
		"rc=$rc: $out"
	if [ "$rc" != 0 ]; then
		gg "$XDPSYN" attach "$GWV_IFC" $(gwv_attach_args) -v 2>&1 | grep -v '^$' | tail -n 25 |
			sed 's/^/#    gateway attach -v: /'
		return 1
	fi
	[ -n "$out" ] && note "gateway attach said: $(tr '\n' ' ' <<<"$out")"
	GWV_ATTACHED=1
}

gwv_xdp_on() { gg ip -o link show dev "$1" | grep -q 'prog/xdp'; }
gwv_tc_left() { # what xdpsyn might have left on IFACE_S's ingress
	local l
	l=$(gg tc filter show dev "$GWV_IFS" ingress 2>/dev/null)
	kver_ge 6 6 && l+=$(gg "$ROOT/build/tcxload" query "$GWV_IFS" ingress 2>/dev/null)
	gg tc qdisc show dev "$GWV_IFS" | grep -q clsact && l+=" clsact qdisc"
	echo "$l"
}

gwv_netem() { # add|del: netem on both END hosts' egress
	local ns rc=0
	for ns in "$GWV_NS_C" "$GWV_NS_S"; do
		if [ "$1" = add ]; then
			# full checksums (tx off: the gateway's RFC 1624 updates
			# and its XDP_REDIRECT path; the connections before had
			# veth's CHECKSUM_PARTIAL frames, the kernel's path) and
			# segments of the MTU (no TSO, GSO), so the loss and
			# reordering hit data, not 64 KiB frames of which a 2 MB
			# transfer is some 60
			nsenter --net=/var/run/netns/"$ns" ethtool -K eth0 tx off tso off gso off >/dev/null 2>&1 || rc=1
			# shellcheck disable=SC2086
			nsenter --net=/var/run/netns/"$ns" tc qdisc add dev eth0 root netem $GWV_NETEM || rc=1
		else
			nsenter --net=/var/run/netns/"$ns" tc qdisc del dev eth0 root 2>/dev/null
			nsenter --net=/var/run/netns/"$ns" ethtool -K eth0 tx on tso on gso on >/dev/null 2>&1
		fi
	done
	return $rc
}
gwv_netem_drops() { # "client N server N": packets netem dropped
	local c s
	c=$(gc tc -s qdisc show dev eth0 | grep -o 'dropped [0-9]*' | head -n 1)
	s=$(gs tc -s qdisc show dev eth0 | grep -o 'dropped [0-9]*' | head -n 1)
	echo "client ${c#dropped } server ${s#dropped }"
}

gateway_checks() {
	local t0=$SECONDS
	gwv_checks
	GWV_FG=$((GWV_FG + SECONDS - t0))
	note "gateway: $GWV_FG s in the foreground (the attach's wait included)"
}
gwv_checks() {
	local out rc k0 k1 d v e0 e1
	[ $GWV_UP = 1 ] || return 0
	gwv_attach_result || return 0
	v=$(gg "$XDPSYN" status "$GWV_IFC" --json 2>&1 | jq -r '(.interfaces[0] // .) | "\(.state) \(.mode)"' 2>&1)
	note "gateway: status: $v"

	# -- the same connections as direct
	e0=$(gwv_csum_errors)
	k0=$(gwv_counters $GWV_CNT)
	gwv_conns; rc=$?
	[ $rc -eq 0 ] && [ "$GWV_R" = "${GWV_D[conns]}" ] || rc=1
	k1=$(gwv_counters $GWV_CNT)
	d=$(gwv_cdelta "$k0" "$k1")
	if [ $rc -eq 0 ]; then
		ok "gateway: through xdpsyn: ${GWV_N}+${GWV_N} connections v4/v6, 64 KiB echoed each, as direct ($GWV_R; $GWV_INFO)"
	else
		bad "gateway: through xdpsyn: ${GWV_N}+${GWV_N} connections v4/v6 as direct" \
			"rc=$rc through: $GWV_R | direct: ${GWV_D[conns]} | $GWV_INFO | $d"
	fi
	local n=$((2 * GWV_N))
	[ "$(gwv_get "$d" gw_conn_new)" = $n ] && [ "$(gwv_get "$d" gw_server_synack)" = $n ] &&
		[ "$(gwv_get "$d" gw_c2s)" -gt 0 ] && [ "$(gwv_get "$d" gw_s2c)" -gt 0 ]
	check "gateway: stats $GWV_IFC --json: gw_conn_new and gw_server_synack +$n (the connections made), gw_c2s, gw_s2c > 0 ($d)" $? "not so"
	e1=$(gwv_csum_errors)
	[ "$e0" = "$e1" ]
	check "gateway: no TCP checksum errors at the client or the server (InCsumErrors client server: $e0 -> $e1)" $? \
		"InCsumErrors client server $e0 -> $e1: translated segments with a broken checksum ($d)"
	[ "$e0" = "$e1" ] || gwv_diag_txoff

	# -- a transfer each family under loss, delay and reordering
	local big=$GWV_BIG o4 o6 t0 r0 r1 rt
	if gwv_netem add; then
		k0=$(gwv_counters $GWV_CNT)
		r0="$(gwv_snmp "${GWV_PID[c]}" RetransSegs) $(gwv_snmp "${GWV_PID[s]}" RetransSegs)"
		t0=$(cut -d' ' -f1 /proc/uptime)
		rc=0
		o4=$(gc "$ROOT/build/tcpecho" client $GWV_S4 $PORT -n 1 -b "$big" -t 5000 2>&1) || rc=1
		o6=$(gc "$ROOT/build/tcpecho" client $GWV_S6 $PORT -n 1 -b "$big" -t 5000 2>&1) || rc=1
		rt=$(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f s", b - a }')
		r1="$(gwv_snmp "${GWV_PID[c]}" RetransSegs) $(gwv_snmp "${GWV_PID[s]}" RetransSegs)"
		sleep 0.2
		k1=$(gwv_counters $GWV_CNT)
		d=$(gwv_cdelta "$k0" "$k1")
		local drops; drops=$(gwv_netem_drops)
		local rx; rx=$(awk -v a="$r0" -v b="$r1" 'BEGIN { split(a, x); split(b, y); printf "client +%d server +%d", y[1] - x[1], y[2] - x[2] }')
		o4=$(sed -E 's/ p50_ms.*//' <<<"${o4##*$'\n'}"); o6=$(sed -E 's/ p50_ms.*//' <<<"${o6##*$'\n'}")
		check "gateway: netem $GWV_NETEM on both end hosts (tx, tso, gso off): $big bytes each way v4 and v6 byte-exact ($o4 / $o6; $rt; netem drops $drops; retransmissions $rx)" \
			$rc "v4: $o4 | v6: $o6 | $rt | netem drops $drops | retransmissions $rx | $d"
		[ "$(gwv_get "$d" gw_conn_new)" = 2 ] && [ "$(gwv_get "$d" gw_c2s)" -gt 0 ] &&
			[ "$(gwv_get "$d" gw_s2c)" -gt 0 ] && [ "$(gwv_get "$d" gw_forward_fib)" -gt 0 ]
		check "gateway: under netem: gw_conn_new +2, gw_c2s, gw_s2c, gw_forward_fib > 0 (full checksums: XDP_REDIRECT) ($d)" $? "not so"
	else
		bad "gateway: netem on the end hosts" "$(tc qdisc add dev lo root netem 2>&1; lsmod 2>/dev/null | grep netem)"
	fi
	gwv_netem del
	e1=$(gwv_csum_errors)
	[ "$e0" = "$e1" ]
	check "gateway: no TCP checksum errors after the transfers (InCsumErrors client server: $e0 -> $e1)" $? \
		"InCsumErrors client server $e0 -> $e1"

	# -- detach: both interfaces clean, the state table kept until --flush-state
	out=$(gg "$XDPSYN" detach "$GWV_IFC" 2>&1); rc=$?
	check "gateway: xdpsyn detach $GWV_IFC" $rc "rc=$rc: $out"
	local left
	left="$(gwv_xdp_on "$GWV_IFC" && echo "XDP on $GWV_IFC;") $(gwv_xdp_on "$GWV_IFS" && echo "XDP on $GWV_IFS;") $(gwv_tc_left)"
	[ -z "${left// /}" ]
	check "gateway: after detach no XDP on $GWV_IFC and $GWV_IFS, nothing on $GWV_IFS's TC ingress" $? "left: $left"
	v=$(ls "$GWV_PINS" 2>/dev/null | tr '\n' ' ')
	[ "$v" = "xdpsyn_gw_conns " ] || [ -z "$v" ]
	check "gateway: after detach at most the state table pinned (${v:-nothing})" $? "pins: $v"
	if [ -e "$GWV_PINS" ]; then
		out=$(gg "$XDPSYN" detach "$GWV_IFC" --flush-state 2>&1); rc=$?
		[ $rc -eq 0 ] && [ ! -e "$GWV_PINS" ]
		check "gateway: detach $GWV_IFC --flush-state: no pins left" $? "rc=$rc: $out; pins: $(ls "$GWV_PINS" 2>&1)"
	fi
	GWV_ATTACHED=0
	out=$(gc "$ROOT/build/tcpecho" client $GWV_S4 $PORT -n 2 -b 10000 -t 5000 2>&1) &&
		out+=" / $(gc "$ROOT/build/tcpecho" client $GWV_S6 $PORT -n 2 -b 10000 -t 5000 2>&1)"
	check "gateway: after detach: connections routed through the gateway ($out)" $? "$out"
}

gateway_down() {
	local ns
	[ $GWV_QUEUED = 1 ] && extra_attach_wait
	if [ -e "$GWV_PINS" ]; then
		{ gg "$XDPSYN" detach "$GWV_IFC" --flush-state || gg "$XDPSYN" detach "$GWV_IFC"; } >/dev/null 2>&1
	fi
	for ns in "${GWV_MADE[@]}"; do ip netns del "$ns" 2>/dev/null; done
	GWV_MADE=() GWV_UP=0
	rm -f /tmp/xs-gwv.attach /tmp/xs-gwv.rc /tmp/xs-gwv.secs "$GWV_OPTLOG"
	return 0
}
