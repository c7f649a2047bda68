# Shared by the end-to-end tests and the demo: a lab of network namespaces.
#
#   client  10.201.0.2  fd00:201::2 --.
#   attacker 10.201.0.3 fd00:201::3 --+-- bridge (switch ns) -- server 10.201.0.1 fd00:201::1
#                                                           xs-<id>: xdpsyn here
# Spoofed flood sources come from 10.201.128.0/17. No default routes.
# Everything created is named with a per-run suffix and removed on exit.

LAB_ID=${LAB_ID:-$$}
NS_SRV=xs-srv-$LAB_ID
NS_CLI=xs-cli-$LAB_ID
NS_ATK=xs-atk-$LAB_ID
NS_SW=xs-sw-$LAB_ID
SRV4=10.201.0.1 CLI4=10.201.0.2 ATK4=10.201.0.3
SRV6=fd00:201::1 CLI6=fd00:201::2 ATK6=fd00:201::3
# The server's interface has a per-run name: xdpsyn pins by interface name
# under /sys/fs/bpf/xdpsyn/, shared by all namespaces.
SRV_IF=xs-$LAB_ID
FLOOD_NET4=10.201.128.0/17
FLOOD_NET6=fd00:201::8000:0/97
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
XDPSYN=${XDPSYN:-$ROOT/build/xdpsyn}
LAB_PIDS=()

# Run in a namespace keeping the host's bpffs (ip netns exec would not).
in_ns() { local ns=$1; shift; nsenter --net=/var/run/netns/"$ns" "$@"; }

lab_up() {
	local h
	# iproute2's object loader (used for xdp_pass below) creates
	# /sys/fs/bpf/{tc/globals,ip,xdp}; remember whether they were there so
	# lab_down removes them only if this lab made them (and they are empty)
	LAB_BPFFS_TC_NEW=0
	[ -e /sys/fs/bpf/tc ] || LAB_BPFFS_TC_NEW=1
	for ns in "$NS_SW" "$NS_SRV" "$NS_CLI" "$NS_ATK"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	ip -n "$NS_SW" link add br0 type bridge
	ip -n "$NS_SW" link set br0 up
	for h in srv cli atk; do
		local ns_var=NS_${h^^}
		[ "$h" = srv ] && ns_var=NS_SRV
		[ "$h" = cli ] && ns_var=NS_CLI
		[ "$h" = atk ] && ns_var=NS_ATK
		local ifn=eth0
		[ "$h" = srv ] && ifn=$SRV_IF
		ip -n "$NS_SW" link add "p_$h" type veth peer name "$ifn" netns "${!ns_var}" || return 1
		ip -n "$NS_SW" link set "p_$h" master br0 up
		ip -n "${!ns_var}" link set "$ifn" up
	done
	ip -n "$NS_SRV" addr add $SRV4/16 dev "$SRV_IF"
	ip -n "$NS_CLI" addr add $CLI4/16 dev eth0
	ip -n "$NS_ATK" addr add $ATK4/16 dev eth0
	ip -n "$NS_SRV" addr add $SRV6/64 dev "$SRV_IF" nodad
	ip -n "$NS_CLI" addr add $CLI6/64 dev eth0 nodad
	ip -n "$NS_ATK" addr add $ATK6/64 dev eth0 nodad
	# veth delivers the server's XDP_TX frames only if its peer runs XDP
	ip -n "$NS_SW" link set dev p_srv xdpdrv obj "$ROOT/build/xdp_pass.bpf.o" sec xdp || return 1
	in_ns "$NS_SRV" sysctl -qw net.ipv4.tcp_syncookies=1
	# warm neighbour tables so the first measured connection is not an ARP wait
	in_ns "$NS_CLI" ping -c1 -W1 -q $SRV4 >/dev/null 2>&1
	in_ns "$NS_CLI" ping -6 -c1 -W1 -q $SRV6 >/dev/null 2>&1
	return 0
}

# A container behind the server (tests/e2e/test_noharm.sh case 7d and its
# VM twin, tests/vm/noharm.sh): namespace NS_CTR, reached from the server's
# namespace over veth xc0 (10.201.64.1/24, fd00:201::64:1/112), the
# container at CTR4/24 and CTR6/112; the server forwards, the client routes
# the container's prefixes via the server (more specific than its /16 and
# /64), the container routes the lab's back. No default route. The caller
# starts what listens in the container; container_down undoes it all.
NS_CTR=xs-ctr-$LAB_ID
CTR4=10.201.64.2 CTR6=fd00:201::64:2
container_up() {
	ip netns add "$NS_CTR" || return 1
	ip -n "$NS_CTR" link set lo up
	in_ns "$NS_CTR" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$NS_SRV" link add xc0 type veth peer name eth0 netns "$NS_CTR" || return 1
	ip -n "$NS_SRV" addr add 10.201.64.1/24 dev xc0
	ip -n "$NS_SRV" addr add fd00:201::64:1/112 dev xc0 nodad
	ip -n "$NS_SRV" link set xc0 up
	ip -n "$NS_CTR" addr add $CTR4/24 dev eth0
	ip -n "$NS_CTR" addr add $CTR6/112 dev eth0 nodad
	ip -n "$NS_CTR" link set eth0 up
	ip -n "$NS_CTR" route add 10.201.0.0/24 via 10.201.64.1
	ip -n "$NS_CTR" -6 route add fd00:201::/112 via fd00:201::64:1
	ip -n "$NS_CLI" route add 10.201.64.0/24 via $SRV4
	ip -n "$NS_CLI" -6 route add fd00:201::64:0/112 via $SRV6
	in_ns "$NS_SRV" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}
# container_ping: warm the client's neighbour entries toward the container
container_ping() {
	in_ns "$NS_CLI" ping -c1 -W1 -q $CTR4 >/dev/null 2>&1
	in_ns "$NS_CLI" ping -6 -c1 -W1 -q $CTR6 >/dev/null 2>&1
	return 0
}
container_down() {
	in_ns "$NS_SRV" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	ip -n "$NS_CLI" route del 10.201.64.0/24 2>/dev/null
	ip -n "$NS_CLI" -6 route del fd00:201::64:0/112 2>/dev/null
	ip netns del "$NS_CTR" 2>/dev/null
	return 0
}

# tcp_counters PID: "PassiveOpens RetransSegs SynRetrans Timeouts" (Tcp,
# TcpExt) of the network namespace of process PID, from its
# /proc/PID/net/{snmp,netstat}: no nsenter + nstat per reading
tcp_counters() {
	awk '$1 == "Tcp:" || $1 == "TcpExt:" {
		if (!seen[$1]++) { for (i = 2; i <= NF; i++) name[$1, i] = $i; next }
		p = substr($1, 1, length($1) - 1)
		for (i = 2; i <= NF; i++) v[p name[$1, i]] = $i
	} END { print v["TcpPassiveOpens"] + 0, v["TcpRetransSegs"] + 0,
		v["TcpExtTCPSynRetrans"] + 0, v["TcpExtTCPTimeouts"] + 0 }' \
		"/proc/$1/net/snmp" "/proc/$1/net/netstat"
}
# tcp_delta "A B C D" "A' B' C' D'" [SIGN]: "SIGNdA SIGNdB SIGNdC SIGNdD"
tcp_delta() {
	local a b i out=""
	read -ra a <<<"$1"; read -ra b <<<"$2"
	for i in 0 1 2 3; do out+="${3:-}$((b[i] - a[i])) "; done
	echo "${out% }"
}
# wait_listen NS PORT: a TCP listener on PORT in NS within 5 s
wait_listen() {
	local i
	for i in $(seq 50); do
		in_ns "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
# outcome_hist: one outcome per line on stdin -> "Nx line; ..." (sorted)
outcome_hist() { sort | uniq -c | sed -E 's/^ *([0-9]+) /\1x /' | paste -sd';' | sed 's/;/; /g'; }

lab_bg() { # lab_bg NS cmd...: start in the background, remember the pid
	local ns=$1; shift
	# nsenter execs the command: $! is the command's own pid
	nsenter --net=/var/run/netns/"$ns" "$@" &
	LAB_PIDS+=($!)
}

lab_bg_stop_all() { # stop every process lab_bg started
	local p
	for p in "${LAB_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${LAB_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	LAB_PIDS=()
}

lab_down() {
	lab_bg_stop_all
	# xdpsyn pins live in the host's bpffs: remove ours whatever state they are in
	[ -x "$XDPSYN" ] && [ -e "/sys/fs/bpf/xdpsyn/$SRV_IF" ] &&
		in_ns "$NS_SRV" "$XDPSYN" detach "$SRV_IF" >/dev/null 2>&1
	for ns in "$NS_SRV" "$NS_CLI" "$NS_ATK" "$NS_SW"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${LAB_BPFFS_TC_NEW:-0}" = 1 ]; then
		rmdir /sys/fs/bpf/tc/globals 2>/dev/null && rmdir /sys/fs/bpf/tc 2>/dev/null &&
			rm -f /sys/fs/bpf/ip /sys/fs/bpf/xdp
	fi
	return 0
}
