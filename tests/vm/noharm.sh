# "Do no harm" in the kernel VMs (sourced by tests/vm/suite.sh): the
# scenarios of tests/e2e/test_noharm.sh that apply on Debian's 6.1 (the
# kernel-cookie hand-off) and 6.12 (reqsk) kernels and fit a TCG VM's time,
# run with the same python helpers (tests/e2e/noharm_*.py; the initramfs
# has Debian's python3 with only the stdlib they import) in the suite's lab.
# Each scenario runs DIRECT (before the suite's attach: noharm_direct) and
# THROUGH xdpsyn (after it, policy proxy: noharm_through), and the through
# run must end as the direct one: the same outcome of every connection and
# the same bytes (noharm_client.py's checksums and options), the server's
# TcpPassiveOpens rising by the same number, the same client and server
# retransmissions (TcpRetransSegs, TcpExtTCPSynRetrans, TcpExtTCPTimeouts),
# and whatever else the scenario observes.
#
# One attach serves every scenario (an attach costs 3 s of verifier on 6.1
# and about 10 s on 6.12 in TCG): a scenario the host runs "before" and
# "after" attach (a sysctl, another TC program) runs here "after" only, and
# under the proxy policy only.
#
# Here (host numbering; each row v4 and v6 in one run, the helpers started
# once for both families: a python start costs ~0.5 s in TCG, 1.8 s cold):
#   2 timewait, 3 mptcp, 4 opts (tcp_timestamps, tcp_window_scaling set to
#   0 after attach), 5 nocookies, 6 other (a classic clsact filter on
#   egress after xdpsyn's; on >= 6.6, where xdpsyn's TC programs are tcx
#   links, a tcx link and a classic filter on ingress after them), 7
#   probes, 7c closed, 7d container:srv80 (a wildcard listener on the
#   server and a container behind it: the FIB path).
# Host only: 1 batch (300 connections a run, two CPUs steered with RPS
#   and a 200 us hold in softirq: timing a TCG VM does not keep, and too
#   slow here), 8 keyrace (bpftool; userspace locking, the same on every
#   kernel), 10 switch (nft, not in the initramfs; the auto policy), the
#   "before attach" rows and the auto/autoproxy policies (an attach each),
#   and for time (make test-kernels within ~5 minutes): opts tcp_sack (the
#   same live sysctl read as window scaling), container without a server
#   listener (srv80 is the harder case), tcx egress, tc ingress on 6.1
#   (no TC ingress program there: the kernel takes the final ACK).

P_ECHO=8080 P_HTTP=8081 P_MPTCP=8082 P_CLOSED=8083 P_CTR=80
NH_PY="python3 -S"
NH_PINS=/sys/fs/bpf/xs-noharm-vm
NH_TMP=/tmp/xs-noharm
declare -A NH_ANCHOR NH_D
NH_ROWS=()
NH_UP=0

# the rows: SCENARIO[:ARG]
nh_rows() {
	NH_ROWS=(timewait mptcp opts:tcp_timestamps opts:tcp_window_scaling nocookies closed
		 probes other:tc:egress)
	# kernel >= 6.6: xdpsyn's TC programs are tcx links, its hand-off on
	# ingress (reqsk, >= 6.9): a tcx link and a classic filter after them
	kver_ge 6 6 && NH_ROWS+=(other:tcx:ingress other:tc:ingress)
	NH_ROWS+=(container:srv80)
}

nh_in() { local ns=$1; shift; nsenter --net=/var/run/netns/"$ns" "$@"; }
nh_bg() { # nh_bg NS cmd...: a lab process; NH_LAST its pid
	local ns=$1; shift
	nsenter --net=/var/run/netns/"$ns" "$@" >/dev/null 2>&1 &
	NH_LAST=$!
	LAB_PIDS+=($NH_LAST)
}
nh_wait_listen() { wait_listen "$@"; } # NS PORT (lib.sh)
# "PassiveOpens RetransSegs SynRetrans Timeouts" of NS, from a process in it
nh_nst() { tcp_counters "${NH_ANCHOR[$1]}"; }
nh_delta() { tcp_delta "$1" "$2"; }
nh_hist() { outcome_hist; }
NH_BOTH=$SRV4,$SRV6 # the helpers take both families in one start (0.5 s in TCG)
nh_client() { # ADDR PORT client-args...: noharm_client.py in the client namespace
	cli $NH_PY tests/e2e/noharm_client.py "$@"
}
nh_busy() { # connections in NS other than LISTEN, TIME_WAIT, CLOSE
	awk 'FNR > 1 && $4 !~ /^(06|07|0A)$/ {n++} END {print n + 0}' \
		"/proc/${NH_ANCHOR[$1]}/net/tcp" "/proc/${NH_ANCHOR[$1]}/net/tcp6"
}
nh_kill_leftovers() { # connections a failed run left behind retransmit into the next
	local ns
	for ns in "$NS_CLI" "$NS_SRV"; do
		[ "$(nh_busy "$ns")" = 0 ] && continue
		nh_in "$ns" ss -K -tn state syn-sent state established state fin-wait-1 \
			state fin-wait-2 state close-wait state last-ack state closing >/dev/null 2>&1
	done
}

# -- the scenarios: sc_NAME_work prints one outcome line per connection or
# probe; _pre / _undo around it (THROUGH=0|1); EXTRA other figures

# 2. TIME_WAIT reuse: the server closes first (HTTP/1.0); the client comes
# back from the same port, three times (a port of its own each run)
NH_LPORT=61000
sc_timewait_work() {
	NH_LPORT=$((NH_LPORT + 1))
	nh_client $NH_BOTH $P_HTTP -n 3 --size 2000 --timeout 4 --local-port $NH_LPORT
}
# 3. an MPTCP listener, plain TCP clients
sc_mptcp_work() { nh_client $NH_BOTH $P_MPTCP -n 5 --size 5000 --timeout 4; }
# 4. a server sysctl set to 0 after attach; the options the client sees
sc_opts_pre() {
	NH_SAVED=$(srv sysctl -n "net.ipv4.$ARG")
	srv sysctl -qw "net.ipv4.$ARG=0"
	[ $THROUGH = 1 ] && sleep 0.3 # xdpsyn reads it from the listener's netns, per SYN
	return 0
}
sc_opts_undo() { srv sysctl -qw "net.ipv4.$ARG=$NH_SAVED"; }
# the kernel-cookie hand-off (< 6.9) keeps the MSS alone for a handshake
# without timestamps (README): with tcp_timestamps=0 on the server, no
# window scale, SACK or ECN
sc_opts_expect() {
	[ "$ARG" = tcp_timestamps ] && ! kver_ge 6 9 || return 0
	NH_WHY="as kernel cookies keep them (MSS alone: kernel-cookie, no timestamps)"
	NH_WANT=$(sed -E 's/opts=[a-z,]+ wscale=[0-9]+,[0-9]+/opts=none wscale=0,0/g' <<<"$1")
}
sc_opts_work() { nh_client $NH_BOTH $P_HTTP -n 2 --size 3000 --timeout 4; }
# 5. tcp_syncookies=0 after attach
sc_nocookies_pre() {
	NH_SAVED=$(srv sysctl -n net.ipv4.tcp_syncookies)
	srv sysctl -qw net.ipv4.tcp_syncookies=0
	[ $THROUGH = 1 ] && sleep 0.3
	return 0
}
sc_nocookies_undo() { srv sysctl -qw net.ipv4.tcp_syncookies="$NH_SAVED"; }
sc_nocookies_work() { nh_client $NH_BOTH $P_HTTP -n 3 --size 3000 --timeout 4; }
# 7c. a protected port nobody listens on: refused
sc_closed_work() { nh_client $NH_BOTH $P_CLOSED -n 2 --timeout 3; }
sc_closed_sane() { [ "$1" = "4x refused" ]; }
# 7. SYNs the kernel would never answer (tests/e2e/test_noharm.sh, case 7)
sc_probes_work() {
	local p=()
	p=("unicast-control=$NH_MAC,$ATK4,$SRV4"
		   "l2-broadcast=ff:ff:ff:ff:ff:ff,$ATK4,$SRV4"
		   "subnet-broadcast=ff:ff:ff:ff:ff:ff,$ATK4,10.201.255.255"
		   "multicast-mac=01:00:5e:00:00:01,$ATK4,$SRV4"
		   "other-host-mac=02:00:0a:c9:00:63,$ATK4,$SRV4"
		   "not-local-10.201.0.99=$NH_MAC,$ATK4,10.201.0.99"
		   "src-0.0.0.0=$NH_MAC,0.0.0.0,$SRV4"
		   "src-127.0.0.1=$NH_MAC,127.0.0.1,$SRV4"
		   "src-self=$NH_MAC,$SRV4,$SRV4"
		   "v6-unicast-control=$NH_MAC,$ATK6,$SRV6"
		   "v6-l2-broadcast=ff:ff:ff:ff:ff:ff,$ATK6,$SRV6"
		   "v6-multicast-mac=33:33:00:00:00:01,$ATK6,$SRV6"
		   "v6-other-host-mac=02:00:0a:c9:00:63,$ATK6,$SRV6"
		   "v6-not-local-::99=$NH_MAC,$ATK6,fd00:201::99"
		   "v6-src-::=$NH_MAC,::,$SRV6"
		   "v6-src-::1=$NH_MAC,::1,$SRV6"
		   "v6-src-self=$NH_MAC,$SRV6,$SRV6")
	in_ns "$NS_ATK" $NH_PY tests/e2e/noharm_probe.py -i eth0 --dport $P_HTTP --wait 0.5 \
		--sniff-netns "/var/run/netns/$NS_SW" --sniff-iface p_srv "${p[@]}"
}
sc_probes_sane() { [[ $1 == *" unicast-control synack=1 rst=0"* ]] && [[ $1 == *"v6-unicast-control synack=1 rst=0"* ]]; }
# 6. another TC program after xdpsyn's (ARG KIND:DIR): it counts FINs and
# payload bytes to / from the HTTP port and returns TC_ACT_OK / TCX_PASS
sc_other_pre() {
	local kind=${ARG%%:*} dir=${ARG#*:}
	mkdir -p "$NH_PINS"
	if [ "$kind" = tcx ]; then
		srv "$ROOT/build/tcxload" tcx "$SRV_IF" "$dir" build/noharm_tc.bpf.o "$NH_PINS/other" $P_HTTP
	else
		srv "$ROOT/build/tcxload" tc "$SRV_IF" "$dir" build/noharm_tc.bpf.o "$NH_PINS/other" $P_HTTP 50000
	fi
}
sc_other_undo() {
	local kind=${ARG%%:*} dir=${ARG#*:}
	[ "$kind" = tcx ] || srv "$ROOT/build/tcxload" untc "$SRV_IF" "$dir" 50000
	rm -rf "$NH_PINS/other"
}
nh_other_count() { "$ROOT/build/tcxload" count "$NH_PINS/other" | awk '{print $1, $2}'; }
sc_other_work() {
	local c0 c1
	c0=$(nh_other_count)
	nh_client $NH_BOTH $P_HTTP -n 4 --size 4000 --timeout 4
	sleep 0.2
	c1=$(nh_other_count)
	EXTRA="other program saw $(awk -v a="$c0" -v b="$c1" 'BEGIN {
		split(a, x, /[= ]/); split(b, y, /[= ]/)
		printf "%s=+%d %s=+%d", y[1], y[2] - x[2], y[3], y[4] - x[4] }')"
}
# 7d. a container behind the server (forwarded; xdpsyn protects port 80);
# srv80: the server itself also listens on port 80 (a wildcard listener)
sc_container_prep() {
	COUNT_NS=$NS_CTR NO_DATA_RTX=1
	[ "$ARG" = srv80 ] || return 0
	nh_bg "$NS_SRV" $NH_PY tests/e2e/noharm_server.py $P_CTR --tag srv80
	NH_SRV80=$NH_LAST
	nh_wait_listen "$NS_SRV" $P_CTR
}
sc_container_done() {
	COUNT_NS="" NO_DATA_RTX=0
	[ -n "${NH_SRV80:-}" ] && kill "$NH_SRV80" 2>/dev/null && wait "$NH_SRV80" 2>/dev/null
	NH_SRV80=
	return 0
}
sc_container_work() {
	local s0 s1
	s0=$(nh_nst "$NS_SRV")
	nh_client $CTR4,$CTR6 $P_CTR -n 3 --size 200000 --timeout 5
	s1=$(nh_nst "$NS_SRV")
	EXTRA="the server's own PassiveOpens +$(( ${s1%% *} - ${s0%% *} ))"
}
sc_container_sane() { [[ $1 == "3x ok "*"; 3x ok "* ]]; }

nh_container_up() { # the namespace and its links: lib.sh's container_up
	container_up || return 1
	nh_bg "$NS_CTR" $NH_PY tests/e2e/noharm_server.py $P_CTR --tag ctr
	NH_ANCHOR[$NS_CTR]=$NH_LAST
	nh_wait_listen "$NS_CTR" $P_CTR || return 1
	container_ping
}

# nh_setup: the servers (HTTP, MPTCP), anchors, the container (once)
nh_setup() {
	[ $NH_UP = 1 ] && return 0
	mkdir -p "$NH_TMP"
	nh_rows
	NH_MAC=$(srv ip -br link show dev "$SRV_IF" | awk '{print $3}')
	nh_bg "$NS_SRV" $NH_PY tests/e2e/noharm_server.py $P_HTTP --tag srv
	NH_ANCHOR[$NS_SRV]=$NH_LAST
	srv sysctl -qw net.mptcp.enabled=1
	nh_bg "$NS_SRV" $NH_PY tests/e2e/noharm_server.py $P_MPTCP --tag mptcp --mptcp
	nh_bg "$NS_CLI" sleep 100000
	NH_ANCHOR[$NS_CLI]=$NH_LAST
	nh_wait_listen "$NS_SRV" $P_HTTP && nh_wait_listen "$NS_SRV" $P_MPTCP ||
		{ bad "noharm: servers" "nothing listens on $P_HTTP/$P_MPTCP"; return 1; }
	nh_container_up || { bad "noharm: container namespace" "set-up failed"; return 1; }
	NH_UP=1
}
nh_hook() { local f="sc_${SC}_$1"; shift; if declare -F "$f" >/dev/null; then "$f" "$@"; fi; }

# nh_row THROUGH ROW: one run of a row, both families; sets NH_R
nh_up() { cut -d' ' -f1 /proc/uptime; }
nh_row() {
	THROUGH=$1
	local row=$2 s0 c0 s1 c1 out t0 t1
	t0=$(nh_up)
	SC=${row%%:*} ARG=""; [[ $row == *:* ]] && ARG=${row#*:}
	COUNT_NS="" NO_DATA_RTX=0 EXTRA=""
	nh_hook prep
	nh_hook pre
	s0=$(nh_nst "${COUNT_NS:-$NS_SRV}"); c0=$(nh_nst "$NS_CLI")
	nh_hook work >"$NH_TMP/out" 2>&1
	sleep 0.15 # the last ACKs
	s1=$(nh_nst "${COUNT_NS:-$NS_SRV}"); c1=$(nh_nst "$NS_CLI")
	nh_hook undo
	out=$(nh_hist <"$NH_TMP/out")
	NH_R="$out|$(nh_delta "$s0" "$s1")|$(nh_delta "$c0" "$c1")|$EXTRA"
	nh_kill_leftovers
	nh_hook done
	t1=$(nh_up)
	NH_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}
# the comparison of retransmissions: "RetransSegs SynRetrans Timeouts", the
# data retransmissions left out when NO_DATA_RTX=1 (a loss probe through a
# forwarding hop now and then, direct or not: the host's rule)
nh_rtx() {
	local a; read -ra a <<<"$1"
	if [ "$2" = 1 ]; then echo "synrtx +${a[2]} rto +${a[3]}"; else
		echo "rtx +${a[1]} synrtx +${a[2]} rto +${a[3]}"; fi
}

noharm_direct() {
	local row out srv cli extra
	nh_setup || return 0
	for row in "${NH_ROWS[@]}"; do
		nh_row 0 "$row"
		NH_D[$row]=$NH_R
		IFS='|' read -r out srv cli extra <<<"$NH_R"
		note "noharm $row direct ($NH_SECS s): $out | srv opens +${srv%% *}${extra:+ | $extra}"
		if declare -F "sc_${SC}_sane" >/dev/null && ! "sc_${SC}_sane" "$out"; then
			bad "noharm $row direct" "not what the scenario needs: $out"
		fi
	done
}

# noharm_through: xdpsyn attached (the suite's attach); its ports widened
# to the scenarios' for the while. A row may say what differs from direct
# by design (sc_NAME_expect DIRECT-OUTCOME sets NH_WANT, the outcome to expect,
# and NH_WHY, why).
noharm_through() {
	local row out srv cli extra dout dsrv dcli dextra nd rt drt want name
	[ $NH_UP = 1 ] || return 0
	out=$(x set "$SRV_IF" ports=$P_ECHO,$P_HTTP,$P_MPTCP,$P_CLOSED,$P_CTR 2>&1) ||
		{ bad "noharm: xdpsyn set ports" "$out"; return 0; }
	for row in "${NH_ROWS[@]}"; do
		nh_row 1 "$row"
		note "noharm $row through: $NH_SECS s"
		nd=0; [ "$SC" = container ] && nd=1
		IFS='|' read -r out srv cli extra <<<"$NH_R"
		IFS='|' read -r dout dsrv dcli dextra <<<"${NH_D[$row]}"
		name="noharm $row v4+v6"
		NH_WANT=$dout NH_WHY="as direct"
		declare -F "sc_${SC}_expect" >/dev/null && "sc_${SC}_expect" "$dout"
		want=$NH_WANT
		if [ "$out" = "$want" ]; then ok "$name: connections and bytes $NH_WHY ($out)"
		else bad "$name: connections and bytes $NH_WHY" "through: $out | want: $want | direct: $dout"; fi
		if [ "${srv%% *}" = "${dsrv%% *}" ]; then ok "$name: PassiveOpens +${srv%% *} as direct"
		else bad "$name: PassiveOpens as direct" "through +${srv%% *} | direct +${dsrv%% *}"; fi
		rt="cli $(nh_rtx "$cli" $nd), srv $(nh_rtx "$srv" $nd)"
		drt="cli $(nh_rtx "$dcli" $nd), srv $(nh_rtx "$dsrv" $nd)"
		if [ "$rt" = "$drt" ]; then ok "$name: retransmissions as direct ($rt)"
		else bad "$name: retransmissions as direct" "through: $rt | direct: $drt"; fi
		if [ -n "$extra$dextra" ]; then
			if [ "$extra" = "$dextra" ]; then ok "$name: $extra (as direct)"
			else bad "$name: as direct" "through: $extra | direct: $dextra"; fi
		fi
	done
	out=$(x set "$SRV_IF" ports=$P_ECHO 2>&1) || bad "noharm: xdpsyn set ports=$P_ECHO" "$out"
}

noharm_down() { # the container namespace (lab_down removes the rest)
	ip netns del "$NS_CTR" 2>/dev/null
	rm -rf "$NH_PINS" "$NH_TMP"
	return 0
}
