# A bond in the kernel VMs (sourced by tests/vm/suite.sh; issue 17): xdpsyn
# attached on a bond of two veths, clients on a bridge over their peers.
#
#   client ns xs-bdc                         server ns xs-bds
#   br0 10.201.20.2 fd00:201::20:2/112       xsbond0 (BOND_MODE, miimon 100)
#     xsbp1 (xdp_pass) <-------------------->  xsbv1 (slave)
#     xsbp2 (xdp_pass) <-------------------->  xsbv2 (slave)
#                                            10.201.20.1 fd00:201::20:1/112
#
# The bond's XDP program runs for both slaves; its XDP_TX goes out through
# the slave the bond picks (bond_xdp_get_xmit_slave), and a veth delivers
# XDP_TX frames only when its peer runs XDP: xdp_pass on both peers.
BOND_MODE=${BOND_MODE:-active-backup}
BD_SNS=xs-bds BD_CNS=xs-bdc BD_IF=xsbond0
BD_S4=10.201.20.1 BD_C4=10.201.20.2 BD_S6=fd00:201::20:1 BD_C6=fd00:201::20:2
BD_UP=0 BD_APID=""
bs() { nsenter --net=/var/run/netns/$BD_SNS "$@"; }
bc() { nsenter --net=/var/run/netns/$BD_CNS "$@"; }
bd_counter() { bs "$XDPSYN" stats $BD_IF -j | jq -r "(.interfaces[0] // .).counters.$1 // 0"; }

bd_lab_up() {
	local ns i
	for ns in $BD_SNS $BD_CNS; do
		ip netns add $ns || return 1
		ip -n $ns link set lo up
		nsenter --net=/var/run/netns/$ns sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	BD_UP=1
	ip -n $BD_SNS link add $BD_IF type bond mode "$BOND_MODE" miimon 100 || return 1
	ip -n $BD_CNS link add br0 type bridge && ip -n $BD_CNS link set br0 up || return 1
	for i in 1 2; do
		ip -n $BD_SNS link add xsbv$i type veth peer name xsbp$i netns $BD_CNS || return 1
		ip -n $BD_SNS link set xsbv$i master $BD_IF || return 1
		ip -n $BD_CNS link set xsbp$i master br0 up || return 1
		ip -n $BD_CNS link set dev xsbp$i xdpdrv obj "$ROOT/build/xdp_pass.bpf.o" sec xdp || return 1
	done
	ip -n $BD_SNS link set $BD_IF up || return 1
	ip -n $BD_SNS addr add $BD_S4/24 dev $BD_IF
	ip -n $BD_SNS addr add $BD_S6/112 dev $BD_IF nodad
	ip -n $BD_CNS addr add $BD_C4/24 dev br0
	ip -n $BD_CNS addr add $BD_C6/112 dev br0 nodad
	bs sysctl -qw net.ipv4.tcp_syncookies=1
	nsenter --net=/var/run/netns/$BD_SNS "$ROOT/build/tcpecho" serve $PORT &
	LAB_PIDS+=($!)
}
bond_up() {
	local out i
	bd_lab_up
	check "bond: lab ($BD_IF, mode $BOND_MODE, slaves xsbv1 xsbv2; xdp_pass on their peers)" $? "set-up failed"
	[ $BD_UP = 1 ] || return 0
	# the bond's carrier comes with miimon's first look at the slaves
	for i in $(seq 30); do bs ip -o link show $BD_IF | grep -q LOWER_UP && break; sleep 0.1; done
	out=$(bc "$ROOT/build/tcpecho" client $BD_S4 $PORT -n 2 -b 1000 -t 5000 2>&1) &&
		out+=" / $(bc "$ROOT/build/tcpecho" client $BD_S6 $PORT -n 2 -b 1000 -t 5000 2>&1)"
	check "bond: direct v4 and v6 ($out)" $? "$out"
}
bond_attach_start() { # queued: tests/vm/vlan.sh's extra_attach_run
	[ $BD_UP = 1 ] || return 0
	extra_attach bd $BD_SNS $BD_IF
	BD_APID=1
}
bond_checks() {
	local out rc v syn0 syn1 o4 o6 r=0
	[ -n "$BD_APID" ] || return 0
	extra_attach_wait
	out=$(cat /tmp/xs-bd.attach 2>/dev/null); rc=$(cat /tmp/xs-bd.rc 2>/dev/null)
	# the kernel's own words when it refuses XDP on a bond: in the line
	check "bond: xdpsyn attach $BD_IF (mode $BOND_MODE) ($(grep -v '^ ' <<<"$out" | tail -n 1))" "${rc:-1}" "rc=$rc: $out"
	[ "$rc" = 0 ] || return 0
	v=$(bs "$XDPSYN" status $BD_IF -j | jq -r '(.interfaces[0] // .) | "\(.state) \(.mode)"')
	[ "$v" = "attached native" ]
	check "bond: status -j: attached, native ($v)" $? "got '$v'"
	syn0=$(bd_counter synack_tx)
	o4=$(bc "$ROOT/build/tcpecho" client $BD_S4 $PORT -n 5 -b 10000 -t 3000 2>&1) || r=1
	o6=$(bc "$ROOT/build/tcpecho" client $BD_S6 $PORT -n 5 -b 10000 -t 3000 2>&1) || r=1
	syn1=$(bd_counter synack_tx)
	[ $r -eq 0 ] && [ $((syn1 - syn0)) -ge 10 ]
	check "bond: 5+5 connections v4/v6 through xdpsyn on $BD_IF (v4 ${o4##*$'\n'}; v6 ${o6##*$'\n'}; synack_tx +$((syn1 - syn0)))" $? \
		"v4: $o4 v6: $o6 synack_tx +$((syn1 - syn0))"
	out=$(bs "$XDPSYN" detach $BD_IF 2>&1)
	check "bond: detach" $? "$out"
}
bond_down() {
	[ $BD_UP = 1 ] || return 0
	[ -e /sys/fs/bpf/xdpsyn/$BD_IF ] && bs "$XDPSYN" detach $BD_IF >/dev/null 2>&1
	ip netns del $BD_SNS 2>/dev/null
	ip netns del $BD_CNS 2>/dev/null
	BD_UP=0
	rm -f /tmp/xs-bd.attach /tmp/xs-bd.rc
	return 0
}
