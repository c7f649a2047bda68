# The host side of the virtio-net NIC test (sourced by tests/vm/run.sh).
#
#   host: netns xs-vmnic-PID            VM (qemu runs inside that netns)
#     xsvm0 (tap) 10.201.9.2/24  <---->  eth0 (virtio-net) 10.201.9.1/24
#                 fd00:201::9:2/64                         fd00:201::9:1/64
#
# The VM's only network device is a virtio-net NIC on a tap that lives in a
# network namespace made here (qemu itself runs in it): nothing the VM sends
# can leave that namespace. No default routes, no forwarding. Inside the VM,
# tests/vm/nic.sh attaches xdpsyn to eth0 in native mode (the virtio_net
# driver's XDP) and prints XS-VM-NIC-READY; this side then connects through
# it, sends a bounded batch of forged ACKs, and connects once to port 8081
# (not protected) to tell the VM it is done.
NIC_TAP=xsvm0
NIC_VM4=10.201.9.1 NIC_HOST4=10.201.9.2
NIC_VM6=fd00:201::9:1 NIC_HOST6=fd00:201::9:2
NIC_VM_MAC=52:54:00:c9:09:01
NIC_VM_ADDRS=$NIC_VM4/24,$NIC_VM6/64
NIC_QEMU_ARGS=(-nic none
	-netdev "tap,id=n0,ifname=$NIC_TAP,script=no,downscript=no"
	-device "virtio-net-pci,netdev=n0,mac=$NIC_VM_MAC,romfile=")
NIC_HOST_LINES=() NIC_HOST_PASS=0 NIC_HOST_FAIL=0

nic_in() { nsenter --net=/var/run/netns/"$NIC_NS" "$@"; }
nic_ok()  { NIC_HOST_LINES+=("ok   host: $1"); NIC_HOST_PASS=$((NIC_HOST_PASS + 1)); }
nic_bad() { NIC_HOST_LINES+=("FAIL host: $1: $2"); NIC_HOST_FAIL=$((NIC_HOST_FAIL + 1)); }
nic_check() { if [ "$2" -eq 0 ]; then nic_ok "$1"; else nic_bad "$1" "$3"; fi; }

nic_host_up() { # nic_host_up KERNEL: the namespace and its tap
	NIC_HOST_LINES=() NIC_HOST_PASS=0 NIC_HOST_FAIL=0
	NIC_NS=xs-vmnic-$$
	ip netns add "$NIC_NS" || { NIC_NS=; return 1; }
	ip -n "$NIC_NS" link set lo up
	nic_in sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	{ ip -n "$NIC_NS" tuntap add dev $NIC_TAP mode tap vnet_hdr &&
	  ip -n "$NIC_NS" addr add $NIC_HOST4/24 dev $NIC_TAP &&
	  ip -n "$NIC_NS" addr add $NIC_HOST6/64 dev $NIC_TAP nodad &&
	  ip -n "$NIC_NS" link set $NIC_TAP up; } || { nic_host_down; return 1; }
}

nic_host_down() {
	[ -n "$NIC_NS" ] && ip netns del "$NIC_NS" 2>/dev/null
	NIC_NS=
	return 0
}

# nic_wait LOG PATTERN: NIC_LINE = the first serial line matching PATTERN;
# returns 1 when qemu ended first (no subshell: a signal to run.sh is
# handled within a poll)
nic_wait() {
	NIC_LINE=
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		NIC_LINE=$(tr -d '\r' <"$1" | grep -m1 -o "$2.*")
		[ -n "$NIC_LINE" ] && return 0
		sleep 0.3
	done
	return 1
}
# TcpRetransSegs of the test's namespace
nic_retrans() {
	nic_in awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 }
		else print $c }' /proc/net/snmp
}

# nic_host_client KERNEL LOG: the host's side, in two phases the VM starts
# with a line on its console and the host ends with one connection to the
# VM's port 8081 (not protected):
#   1 (XS-VM-NIC-READY MODE): 10 + 10 real connections (v4, v6) through the
#     VM's NIC; the VM then checks that no segment of theirs was counted as
#     a forged ACK
#   2 (XS-VM-NIC-FLOOD, full mode only): 500 forged ACKs and 1000 spoofed
#     SYNs (bounded, paced), which the VM counts
nic_host_client() {
	local log=$2 ready out r0 r1
	if ! nic_wait "$log" XS-VM-NIC-READY; then
		nic_bad "NIC test" "the VM never said XS-VM-NIC-READY"
		return 1
	fi
	ready=$NIC_LINE
	r0=$(nic_retrans)
	out=$(nic_in "$BUILD/tcpecho" client $NIC_VM4 8080 -n 10 -b 65536 -t 5000 2>&1)
	nic_check "IPv4 through the VM's virtio-net NIC: 10 connections, 64 KiB echoed each ($out)" $? "$out"
	out=$(nic_in "$BUILD/tcpecho" client $NIC_VM6 8080 -n 10 -b 65536 -t 5000 2>&1)
	nic_check "IPv6 through the VM's virtio-net NIC: 10 connections, 64 KiB echoed each ($out)" $? "$out"
	r1=$(nic_retrans)
	NIC_HOST_LINES+=("#    host: the client retransmitted $((r1 - r0)) segments (TcpRetransSegs)")
	nic_in "$BUILD/tcpecho" client $NIC_VM4 8081 -n 1 -b 10 -t 5000 -q >/dev/null 2>&1
	[[ $ready == *full* ]] || return 0
	if ! nic_wait "$log" XS-VM-NIC-FLOOD; then
		nic_bad "NIC test" "the VM never said XS-VM-NIC-FLOOD"
		return 1
	fi
	out=$(nic_in "$BUILD/synflood" -i $NIC_TAP --dst-ip $NIC_VM4 --dst-mac $NIC_VM_MAC \
		--dport 8080 --src-net 10.201.128.0/17 --ack --count 500 --rate 1000 --duration 5 -q 2>&1)
	nic_check "500 forged ACKs sent into the VM's NIC" $? "$out"
	out=$(nic_in "$BUILD/synflood" -i $NIC_TAP --dst-ip $NIC_VM4 --dst-mac $NIC_VM_MAC \
		--dport 8080 --src-net 10.201.128.0/17 --count 1000 --rate 1000 --duration 5 -q 2>&1)
	nic_check "1000 spoofed SYNs sent into the VM's NIC" $? "$out"
	nic_in "$BUILD/tcpecho" client $NIC_VM4 8081 -n 1 -b 10 -t 5000 -q >/dev/null 2>&1
	return 0
}
