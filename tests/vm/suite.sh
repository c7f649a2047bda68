#!/usr/bin/env bash
# The kernel VM suite: runs INSIDE a VM (tests/vm/run.sh boots it; /init runs
# it), in the lab of network namespaces tests/e2e/lib.sh builds, with the
# project's binaries under ROOT=/xs. One "ok"/"FAIL" line per case, then
# exactly one "N passed, N failed" line.
#
# XS_MODE (kernel command line xs.mode=):
#   full    attach, status, connections v4/v6, options as direct, forged
#           ACKs, a bounded flood with legit connections, detach
#   refuse  this kernel is too old for this xdpsyn: attach must refuse
#           (exit 4, "too old") and leave nothing behind
#   auto    (default) full on >= 6.9, or when `xdpsyn attach --help` offers
#           --handoff (the kernel-cookie hand-off for older kernels); else refuse
# XS_ATTACH (xs.attach=, commas for spaces): more options for every attach
#   (e.g. xs.attach=--handoff,kernel-cookie)
# XS_NET (xs.net=): the virtio-net NIC test (tests/vm/nic.sh).
set -u
ROOT=${ROOT:-/xs}
cd "$ROOT" || exit 1
PASS=0 FAIL=0
ok()  { echo "ok   $1"; PASS=$((PASS + 1)); }
bad() { # one line, whatever the detail holds
	local d=${2//$'\n'/ | }
	[ ${#d} -gt 600 ] && d="${d:0:600}..."
	echo "FAIL $1: $d"; FAIL=$((FAIL + 1))
}
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }
note() { echo "#    $*"; }

# XS_PARTS (xs.parts=, commas): which parts run besides the core (the lab's
# attach, connections, counters, forged ACKs, flood, detach); default all:
# opts (tests/vm/opts.sh), noharm (tests/vm/noharm.sh), vlan
# (tests/vm/vlan.sh), bond (tests/vm/bond.sh), gateway
# (tests/vm/gateway.sh), nic (tests/vm/nic.sh, with xs.net=)
# XS_GW_ATTACH (xs.gwattach=, commas for spaces): more options for the
# gateway part's attach (tests/vm/gateway.sh)
PARTS=" ${XS_PARTS:-opts noharm vlan bond gateway nic} "; PARTS=${PARTS//,/ }
part() { [[ $PARTS == *" $1 "* ]]; }
[ "${XS_PARTS:-}" ] && note "parts: $PARTS"

LAB_ID=vm
source tests/e2e/lib.sh
source tests/vm/opts.sh
source tests/vm/noharm.sh
source tests/vm/vlan.sh
source tests/vm/bond.sh
source tests/vm/gateway.sh
PORT=8080
OPTLOG=/tmp/xs-opts.log
finish() {
	declare -F noharm_down >/dev/null && noharm_down
	declare -F vlan_down >/dev/null && vlan_down
	declare -F bond_down >/dev/null && bond_down
	declare -F gateway_down >/dev/null && gateway_down
	lab_down
	[ -n "${NIC_PID:-}" ] && kill $NIC_PID 2>/dev/null
	note "suite: $SECONDS s"
	echo "$PASS passed, $FAIL failed"
}
trap finish EXIT

srv() { in_ns "$NS_SRV" "$@"; }
cli() { in_ns "$NS_CLI" "$@"; }
x() { srv "$XDPSYN" "$@"; }
ATTACH_OPTS=${XS_ATTACH:-}; ATTACH_OPTS=${ATTACH_OPTS//,/ }
[ -n "$ATTACH_OPTS" ] && note "attach options: $ATTACH_OPTS"
counter() { x stats "$SRV_IF" -j | jq -r "(.interfaces[0] // .).counters.$1 // empty"; }
# "STATE MODE" of an interface from status -j (one interface named: the object)
status_mode() { x status "$1" -j | jq -r '(.interfaces[0] // .) | "\(.state) \(.mode)"'; }
# TcpPassiveOpens of a namespace, from /proc/net/snmp
passive_opens() {
	in_ns "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 }
		else print $c }' /proc/net/snmp
}
kver_ge() { # kver_ge MAJ MIN: the running kernel is >= MAJ.MIN
	local r maj min
	r=$(uname -r); maj=${r%%.*}; min=${r#*.}; min=${min%%[!0-9]*}
	[ "$maj" -gt "$1" ] || { [ "$maj" -eq "$1" ] && [ "$min" -ge "$2" ]; }
}

# -- the kernel ------------------------------------------------------------------
if [ -n "${XS_KVER:-}" ]; then
	[ "$(uname -r)" = "$XS_KVER" ]
	check "kernel $(uname -r) (booted the one asked for)" $? "expected $XS_KVER"
else
	ok "kernel $(uname -r)"
fi
[ -r /sys/kernel/btf/vmlinux ]
check "BTF at /sys/kernel/btf/vmlinux" $? "missing: CO-RE programs cannot load"
missing=$(cat /tmp/xs-modfail 2>/dev/null)
for m in veth bridge sch_ingress cls_bpf 8021q bonding virtio_net sch_netem; do
	[ -d /sys/module/$m ] || missing="$missing $m"
done
[ -z "$missing" ]
check "modules loaded (veth, bridge, sch_ingress, cls_bpf, 8021q, bonding, virtio_net, sch_netem)" $? "missing:$missing"

if [ -z "${XS_NET:-}" ]; then
	devs=$(ip -o link show | awk -F': ' '$2 != "lo" {print $2}')
	[ -z "$devs" ]
	check "no network device in the VM (none given)" $? "devices: $devs"
fi

MODE=${XS_MODE:-auto}
if [ "$MODE" = auto ]; then
	if kver_ge 6 9; then
		MODE=full
		note "mode full: kernel >= 6.9 (bpf_sk_assign_tcp_reqsk)"
	elif "$XDPSYN" attach --help 2>&1 | grep -q -- '--handoff'; then
		MODE=full
		note "mode full: kernel < 6.9, xdpsyn has --handoff (kernel-cookie hand-off)"
	else
		MODE=refuse
		note "mode refuse: kernel < 6.9 and this xdpsyn has no --handoff"
	fi
fi

# -- the lab ------------------------------------------------------------------------
lab_up
check "lab: namespaces, bridge, veth, xdp_pass on the peer (tests/e2e/lib.sh)" $? "lab_up failed"
: >"$OPTLOG"
lab_bg "$NS_SRV" "$ROOT/build/tcpecho" serve $PORT "$OPTLOG"
sleep 0.3
out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 5 -b 10000 -t 5000 2>&1)
check "direct IPv4: 5 connections echoed ($out)" $? "$out"
out=$(cli "$ROOT/build/tcpecho" client $SRV6 $PORT -n 5 -b 10000 -t 5000 2>&1)
check "direct IPv6: 5 connections echoed ($out)" $? "$out"

DEFAULTS=$(cli sysctl -n net.ipv4.tcp_timestamps net.ipv4.tcp_sack net.ipv4.tcp_window_scaling net.ipv4.tcp_ecn | tr '\n' ' ')
restore_client() {
	local a b c d
	read -r a b c d <<<"$DEFAULTS"
	cli sysctl -qw net.ipv4.tcp_timestamps=$a net.ipv4.tcp_sack=$b \
		net.ipv4.tcp_window_scaling=$c net.ipv4.tcp_ecn=$d
}

# -- refuse: this xdpsyn cannot run on this kernel, and says so ----------------------
refuse_checks() {
	local out rc
	out=$(x attach "$SRV_IF" --ports $PORT --set-sysctl $ATTACH_OPTS 2>&1); rc=$?
	[ $rc -eq 4 ] && grep -q 'too old' <<<"$out"
	check "attach on $(uname -r) refused: exit 4, 'too old' ($(head -n 1 <<<"$out"))" $? "rc=$rc: $out"
	[ ! -e "/sys/fs/bpf/xdpsyn/$SRV_IF" ]
	check "the refused attach pinned nothing" $? "$(ls -R /sys/fs/bpf/xdpsyn 2>&1)"
	! srv ip link show dev "$SRV_IF" | grep -q 'prog/xdp'
	check "the refused attach left no XDP program on $SRV_IF" $? "$(srv ip link show dev "$SRV_IF")"
	out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 3 -b 1000 -t 5000 2>&1)
	check "after the refusal: direct connections ($out)" $? "$out"
}

# -- full: the end-to-end core ---------------------------------------------------
full_checks() {
	local out rc v
	part opts && opts16_direct
	part noharm && noharm_direct
	part gateway && gateway_up && gateway_direct
	srv sysctl -qw net.ipv4.tcp_ecn=1 # the server agrees to ECN when asked

	local t0=$SECONDS
	out=$(x attach "$SRV_IF" --ports $PORT --set-sysctl $ATTACH_OPTS 2>&1); rc=$?
	check "xdpsyn attach $SRV_IF --ports $PORT ($((SECONDS - t0)) s, the verifier in TCG)" $rc "rc=$rc: $out"
	if [ $rc -ne 0 ]; then
		# why: the end of libbpf's and the verifier's log
		x attach "$SRV_IF" --ports $PORT --set-sysctl $ATTACH_OPTS -v 2>&1 | grep -v '^$' | tail -n 40 |
			sed 's/^/#    attach -v: /'
		return 0
	fi
	[ -n "$out" ] && note "attach said: $(tr '\n' ' ' <<<"$out")"
	out=$(x status "$SRV_IF" 2>&1)
	check "xdpsyn status $SRV_IF" $? "$out"
	v=$(status_mode "$SRV_IF")
	[ "$v" = "attached native" ]
	check "status -j: attached, native ($v)" $? "got '$v'"

	# the VLAN and bond labs, and their three attaches one after another
	# in the background while the main lab's connections run (each attach
	# ~10 s of verifier on 6.12 in TCG; the connections mostly wait):
	# checked at the end
	part vlan && vlan_up
	part bond && bond_up
	part vlan && vlan_attach_start
	part bond && bond_attach_start
	part gateway && gateway_attach_start
	extra_attach_run

	local inv0
	inv0=$(counter ack_invalid)
	out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 10 -b 65536 -t 5000 2>&1)
	check "IPv4 through xdpsyn: 10 connections, 64 KiB echoed each ($out)" $? "$out"
	out=$(cli "$ROOT/build/tcpecho" client $SRV6 $PORT -n 10 -b 65536 -t 5000 2>&1)
	check "IPv6 through xdpsyn: 10 connections, 64 KiB echoed each ($out)" $? "$out"
	v=$(counter ack_invalid)
	[ $((v - inv0)) -eq 0 ]
	check "no segment of these 20 connections counted as a forged ACK (ack_invalid +$((v - inv0)))" $? \
		"ack_invalid +$((v - inv0)): real segments dropped in XDP"
	# handoff_ok counts TC's bpf_sk_assign_tcp_reqsk hand-offs (>= 6.9);
	# with the kernel-cookie hand-off the kernel takes the ACK itself
	local cs="synack_tx ack_valid"
	kver_ge 6 9 && cs="$cs handoff_ok"
	for c in $cs; do
		v=$(counter $c); [ "${v:-0}" -ge 20 ]
		check "counter $c >= 20 ($v)" $? "$c=$v"
	done

	part opts && opts16_through
	part noharm && noharm_through

	# forged ACKs: spoofed sources, random cookies
	local mac inv1 po0 po1
	mac=$(srv ip -o link show dev "$SRV_IF" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	inv0=$(counter ack_invalid); po0=$(passive_opens "$NS_SRV")
	out=$(in_ns "$NS_ATK" "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$mac" \
		--dport $PORT --src-net $FLOOD_NET4 --ack --count 2000 --duration 10 -q 2>&1)
	check "2000 forged ACKs sent" $? "$out"
	sleep 0.5
	inv1=$(counter ack_invalid); po1=$(passive_opens "$NS_SRV")
	[ $((inv1 - inv0)) -eq 2000 ]
	check "forged ACKs: all 2000 dropped as ack_invalid ($((inv1 - inv0)))" $? "ack_invalid +$((inv1 - inv0))"
	[ "$po1" = "$po0" ]
	check "forged ACKs: no connection created (PassiveOpens $po0 -> $po1)" $? "PassiveOpens $po0 -> $po1"

	# a short bounded SYN flood (v4 and v6 sources) with legit connections
	local syn0 syn1 fp4 fp6 flood4 flood6
	syn0=$(counter synack_tx)
	in_ns "$NS_ATK" "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$mac" --dport $PORT \
		--src-net $FLOOD_NET4 --count 3000 --rate 1000 --duration 5 -q >/tmp/xs-flood4 2>&1 &
	fp4=$!
	in_ns "$NS_ATK" "$ROOT/build/synflood" -i eth0 --dst-ip $SRV6 --dst-mac "$mac" --dport $PORT \
		--src-net $FLOOD_NET6 --count 2000 --rate 700 --duration 5 -q >/tmp/xs-flood6 2>&1 &
	fp6=$!
	sleep 0.3
	out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 20 -b 1000 -t 3000 2>&1); rc=$?
	v=$(cli "$ROOT/build/tcpecho" client $SRV6 $PORT -n 20 -b 1000 -t 3000 2>&1) || rc=1
	wait $fp4; local r4=$?; wait $fp6; local r6=$?
	flood4=$(tr '\n' ' ' </tmp/xs-flood4); flood6=$(tr '\n' ' ' </tmp/xs-flood6)
	[ $r4 -eq 0 ] && [ $r6 -eq 0 ]
	check "bounded SYN flood sent (v4: $flood4; v6: $flood6)" $? "rc $r4/$r6"
	check "under the flood: 20+20 legit connections v4/v6 ($out / $v)" $rc "v4: $out v6: $v"
	sleep 0.3
	syn1=$(counter synack_tx)
	[ $((syn1 - syn0)) -ge 5000 ]
	check "the flood's SYNs answered in XDP (synack_tx +$((syn1 - syn0)) >= 5000)" $? "synack_tx +$((syn1 - syn0))"

	out=$(x detach "$SRV_IF" 2>&1)
	check "xdpsyn detach $SRV_IF" $? "$out"
	[ ! -e "/sys/fs/bpf/xdpsyn/$SRV_IF" ] && ! srv ip link show dev "$SRV_IF" | grep -q 'prog/xdp'
	check "detach removed its pins and the XDP program" $? \
		"$(ls -la "/sys/fs/bpf/xdpsyn/$SRV_IF" 2>&1; srv ip -o link show dev "$SRV_IF")"
	out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 3 -b 1000 -t 5000 2>&1)
	check "after detach: direct connections ($out)" $? "$out"
}

case $MODE in
full) full_checks
      part vlan && vlan_checks
      part bond && bond_checks
      part gateway && gateway_checks ;;
refuse) refuse_checks ;;
*) bad "mode" "unknown xs.mode=$MODE" ;;
esac

[ -n "${XS_NET:-}" ] && part nic && source tests/vm/nic.sh
exit 0
