# The gateway lab (issue 16), sourced by bench/gateway.sh and by tests:
# servers behind a forwarding host, in network namespaces.
#
#   client   10.201.20.2  fd00:201::20:2 --.
#                                          +-- bridge (switch ns) -- [GW_IFC  gateway  GW_IFS] -- server
#   attacker 10.201.20.3  fd00:201::20:3 --'   port GW_SWP        10.201.20.1    10.201.21.1   10.201.21.2
#                                                                 fd00:201::20:1 fd00:201::21:1 fd00:201::21:2
#
# Client side 10.201.20.0/24 and fd00:201::20:0/112, server side
# 10.201.21.0/24 and fd00:201::21:0/112. The gateway forwards (IPv4 and
# IPv6); client and attacker reach the server side through it, the server
# reaches the client side through it. Spoofed flood sources come from
# 10.201.128.0/17 and fd00:201::8000:0/97: the server routes them to the
# gateway and the gateway routes them to the attacker, whose kernel does not
# forward: the server's answers to a spoofed SYN cross the gateway back toward
# the attacker side and die there (counted as rx on the attacker's eth0).
# No default route anywhere; every name carries GWLAB_ID; gwlab_down removes
# only what gwlab_up created and stops only the processes started with lab_bg.
#
# XDP and NAPI: xdp_pass (build/xdp_pass.bpf.o) runs on both gateway
# interfaces, on the server's interface and on the switch's port toward the
# gateway. On veth an XDP program gives the interface a NAPI instance (made
# threaded here, so a benchmark can pin each to a core and read its CPU
# time); a peer needs one for XDP_TX frames to be delivered (DESIGN.md,
# "Facts measured on this machine"); and native XDP on veth copies each
# frame into a page first, a lab cost every defence then pays alike.
# XDP_REDIRECT bypasses the target veth's qdisc: put netem on the end
# hosts' egress (client eth0, server GW_SRV_IF), never on the gateway's.
#
# Needs ROOT (the tree, for build/xdp_pass.bpf.o), and tests/e2e/lib.sh
# and bench/benchlab.sh sourced first: in_ns, lab_bg and LAB_PIDS (every
# process started in the lab), thread_napi, if_mac, and the helpers the
# benchmark measures with. GWLAB_ID defaults to $$.

GWLAB_ID=${GWLAB_ID:-g$$}
GW_NS_CLI=xg-cli-$GWLAB_ID
GW_NS_ATK=xg-atk-$GWLAB_ID
GW_NS_SW=xg-sw-$GWLAB_ID
GW_NS_GW=xg-gw-$GWLAB_ID
GW_NS_SRV=xg-srv-$GWLAB_ID
# Interfaces that get a NAPI thread have per-run names (threads are named
# napi/IFACE-ID, and xdpsyn pins by interface name in the shared bpffs).
GW_IFC=gc-$GWLAB_ID     # gateway, client side
GW_IFS=gs-$GWLAB_ID     # gateway, server side
GW_SRV_IF=sv-$GWLAB_ID  # the server's interface
GW_SWP=pg-$GWLAB_ID     # the switch's port toward the gateway
GW_CLI4=10.201.20.2 GW_ATK4=10.201.20.3 GW_GWC4=10.201.20.1
GW_GWS4=10.201.21.1 GW_SRV4=10.201.21.2
GW_CLI6=fd00:201::20:2 GW_ATK6=fd00:201::20:3 GW_GWC6=fd00:201::20:1
GW_GWS6=fd00:201::21:1 GW_SRV6=fd00:201::21:2
GW_CNET4=10.201.20.0/24 GW_SNET4=10.201.21.0/24
GW_CNET6=fd00:201::20:0/112 GW_SNET6=fd00:201::21:0/112
GW_FLOOD4=10.201.128.0/17
GW_FLOOD6=fd00:201::8000:0/97
GW_MADE_NS=()

gw_xdp_pass() { # gw_xdp_pass NS IFACE: attach xdp_pass, thread the NAPI it brings
	ip -n "$1" link set dev "$2" xdpdrv obj "$ROOT/build/xdp_pass.bpf.o" sec xdp || return 1
	thread_napi "$1" "$2"
}

gwlab_up() {
	local ns
	GW_BPFFS_TC_NEW=0
	[ -e /sys/fs/bpf/tc ] || GW_BPFFS_TC_NEW=1
	for ns in "$GW_NS_SW" "$GW_NS_CLI" "$GW_NS_ATK" "$GW_NS_GW" "$GW_NS_SRV"; do
		ip netns add "$ns" || return 1
		GW_MADE_NS+=("$ns")
		ip -n "$ns" link set lo up
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	# client side: a bridge joining client, attacker and the gateway
	ip -n "$GW_NS_SW" link add br0 type bridge || return 1
	ip -n "$GW_NS_SW" link set br0 up
	ip -n "$GW_NS_SW" link add pc type veth peer name eth0 netns "$GW_NS_CLI" || return 1
	ip -n "$GW_NS_SW" link add pa type veth peer name eth0 netns "$GW_NS_ATK" || return 1
	ip -n "$GW_NS_SW" link add "$GW_SWP" type veth peer name "$GW_IFC" netns "$GW_NS_GW" || return 1
	for ns in pc pa "$GW_SWP"; do ip -n "$GW_NS_SW" link set "$ns" master br0 up; done
	# server side: one link
	ip -n "$GW_NS_GW" link add "$GW_IFS" type veth peer name "$GW_SRV_IF" netns "$GW_NS_SRV" || return 1
	ip -n "$GW_NS_CLI" link set eth0 up
	ip -n "$GW_NS_ATK" link set eth0 up
	ip -n "$GW_NS_GW" link set "$GW_IFC" up
	ip -n "$GW_NS_GW" link set "$GW_IFS" up
	ip -n "$GW_NS_SRV" link set "$GW_SRV_IF" up

	ip -n "$GW_NS_CLI" addr add $GW_CLI4/24 dev eth0
	ip -n "$GW_NS_ATK" addr add $GW_ATK4/24 dev eth0
	ip -n "$GW_NS_GW" addr add $GW_GWC4/24 dev "$GW_IFC"
	ip -n "$GW_NS_GW" addr add $GW_GWS4/24 dev "$GW_IFS"
	ip -n "$GW_NS_SRV" addr add $GW_SRV4/24 dev "$GW_SRV_IF"
	ip -n "$GW_NS_CLI" addr add $GW_CLI6/112 dev eth0 nodad
	ip -n "$GW_NS_ATK" addr add $GW_ATK6/112 dev eth0 nodad
	ip -n "$GW_NS_GW" addr add $GW_GWC6/112 dev "$GW_IFC" nodad
	ip -n "$GW_NS_GW" addr add $GW_GWS6/112 dev "$GW_IFS" nodad
	ip -n "$GW_NS_SRV" addr add $GW_SRV6/112 dev "$GW_SRV_IF" nodad

	# routes: only the lab's prefixes, never a default
	ip -n "$GW_NS_CLI" route add $GW_SNET4 via $GW_GWC4 || return 1
	ip -n "$GW_NS_ATK" route add $GW_SNET4 via $GW_GWC4 || return 1
	ip -n "$GW_NS_SRV" route add $GW_CNET4 via $GW_GWS4 || return 1
	ip -n "$GW_NS_SRV" route add $GW_FLOOD4 via $GW_GWS4 || return 1
	ip -n "$GW_NS_GW" route add $GW_FLOOD4 via $GW_ATK4 dev "$GW_IFC" || return 1
	ip -n "$GW_NS_CLI" -6 route add $GW_SNET6 via $GW_GWC6 || return 1
	ip -n "$GW_NS_ATK" -6 route add $GW_SNET6 via $GW_GWC6 || return 1
	ip -n "$GW_NS_SRV" -6 route add $GW_CNET6 via $GW_GWS6 || return 1
	ip -n "$GW_NS_SRV" -6 route add $GW_FLOOD6 via $GW_GWS6 || return 1
	ip -n "$GW_NS_GW" -6 route add $GW_FLOOD6 via $GW_ATK6 dev "$GW_IFC" || return 1
	in_ns "$GW_NS_GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	# the attacker's kernel must not forward what comes back to spoofed sources
	in_ns "$GW_NS_ATK" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	in_ns "$GW_NS_SRV" sysctl -qw net.ipv4.tcp_syncookies=1

	gw_xdp_pass "$GW_NS_GW" "$GW_IFC" || return 1
	gw_xdp_pass "$GW_NS_GW" "$GW_IFS" || return 1
	gw_xdp_pass "$GW_NS_SRV" "$GW_SRV_IF" || return 1
	gw_xdp_pass "$GW_NS_SW" "$GW_SWP" || return 1
	# the path must work both ways before anything is measured
	local f ok=1
	for f in "$GW_SRV4" "-6 $GW_SRV6"; do
		# shellcheck disable=SC2086
		in_ns "$GW_NS_CLI" ping $f -c1 -W2 -q >/dev/null 2>&1 ||
			in_ns "$GW_NS_CLI" ping $f -c1 -W2 -q >/dev/null 2>&1 || ok=0
	done
	in_ns "$GW_NS_ATK" ping -c1 -W2 -q $GW_SRV4 >/dev/null 2>&1
	in_ns "$GW_NS_GW" ping -c1 -W2 -q $GW_ATK4 >/dev/null 2>&1
	in_ns "$GW_NS_GW" ping -6 -c1 -W2 -q $GW_ATK6 >/dev/null 2>&1
	[ $ok = 1 ] || { echo "gwlab: client cannot ping the server through the gateway" >&2; return 1; }
	return 0
}

gwlab_down() {
	local ns l
	lab_bg_stop_all
	for ns in "${GW_MADE_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	GW_MADE_NS=()
	if [ "${GW_BPFFS_TC_NEW:-0}" = 1 ]; then
		# iproute2 links ip and xdp to tc; libxdp's own xdp/ is a directory: keep it
		if rmdir /sys/fs/bpf/tc/globals 2>/dev/null && rmdir /sys/fs/bpf/tc 2>/dev/null; then
			for l in /sys/fs/bpf/ip /sys/fs/bpf/xdp; do [ -L "$l" ] && rm -f "$l"; done
		fi
	fi
	return 0
}
