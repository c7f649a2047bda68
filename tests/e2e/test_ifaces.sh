#!/usr/bin/env bash
# Interfaces as operators have them, on this machine's kernel, each case a
# differential pair (direct, then through xdpsyn, same traffic):
#
#   jumbo   MTU 9000 on a veth pair: native attach (a multi-buffer program),
#           1 MB transfers byte-exact v4/v6 with the MSS a direct connection
#           gets, a bounded spoofed SYN flood answered in XDP with legit
#           connections kept
#   vlan    the client and the server on VLAN 10 "sub-interfaces" whose tag
#           the veths carry offloaded (in the skb's metadata, as NICs and
#           veth do with rx-vlan-offload): emulated with TC (vlan_emu.bpf.c,
#           this kernel has no 802.1Q; the VMs test the real one). Through
#           xdpsyn --vlan metadata the SYN-ACKs carry the tag and
#           connections succeed v4/v6, flows shows the VLAN; --vlan frame
#           shows the failure it fixes (SYN-ACKs untagged, dropped); generic
#           mode keeps the tag by itself.
#
# Ends with "N passed, N failed"; exit 1 on any failure. Needs root.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
XDPSYN=$ROOT/build/xdpsyn
TCXLOAD=$ROOT/build/tcxload
ID=$$
NS_C=xs-ifc-$ID NS_S=xs-ifs-$ID
IF=xs-if-$ID          # the server's interface (xdpsyn pins by its name)
SRV4=10.201.4.1 CLI4=10.201.4.2 SRV6=fd00:201::4:1 CLI6=fd00:201::4:2
FLOOD_NET4=10.201.128.0/17
PORT=8080 VID=10
PINS=/sys/fs/bpf/xs-ifaces-$ID  # vlan_emu's maps
PASS=0 FAIL=0 SRV_PID=
OPTLOG=$(mktemp) FLOODOUT=$(mktemp)
ok()   { echo "ok   $1"; PASS=$((PASS + 1)); }
bad()  { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

srv() { nsenter --net=/var/run/netns/"$NS_S" "$@"; }
cli() { nsenter --net=/var/run/netns/"$NS_C" "$@"; }
x() { srv "$XDPSYN" "$@"; }
counter() { x stats "$IF" -j | jq -r ".counters.$1 // 0"; }

finish() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	[ -e "/sys/fs/bpf/xdpsyn/$IF" ] && x detach "$IF" >/dev/null 2>&1
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	rm -rf "$PINS" "$OPTLOG" "$FLOODOUT"
	echo "$PASS passed, $FAIL failed"
}
trap finish EXIT
trap 'exit 1' INT TERM

lab_up() { # lab_up MTU
	ip netns add "$NS_C" && ip netns add "$NS_S" || return 1
	ip -n "$NS_S" link add "$IF" mtu "$1" type veth peer name eth0 mtu "$1" netns "$NS_C" || return 1
	for ns in "$NS_C" "$NS_S"; do
		ip -n "$ns" link set lo up
		nsenter --net=/var/run/netns/"$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
	done
	ip -n "$NS_S" link set "$IF" up
	ip -n "$NS_C" link set eth0 up
	ip -n "$NS_S" addr add $SRV4/24 dev "$IF"
	ip -n "$NS_C" addr add $CLI4/24 dev eth0
	ip -n "$NS_S" addr add $SRV6/64 dev "$IF" nodad
	ip -n "$NS_C" addr add $CLI6/64 dev eth0 nodad
	# veth delivers XDP_TX frames only to a peer running XDP; at a jumbo
	# MTU that must be a multi-buffer program too
	ip -n "$NS_C" link set dev eth0 xdpdrv obj "$ROOT/build/xdp_pass.bpf.o" sec xdp.frags || return 1
	srv sysctl -qw net.ipv4.tcp_syncookies=1
	mkdir -p "$PINS"
	# nsenter execs the server: $! is its own pid (a shell function in the
	# background would leave it orphaned, holding the caller's pipe open)
	nsenter --net=/var/run/netns/"$NS_S" "$ROOT/build/tcpecho" serve $PORT "$OPTLOG" \
		>/dev/null 2>&1 &
	SRV_PID=$!
	sleep 0.3
}

# transfers ADDR N BYTES: "ok=N failed=N ..." of N echoed connections
transfers() { cli "$ROOT/build/tcpecho" client "$1" $PORT -n "$2" -b "$3" -t 3000 2>&1; }
# the MSS the server's kernel sends with, for one connection to ADDR
server_mss() {
	: >"$OPTLOG"
	cli "$ROOT/build/tcpecho" client "$1" $PORT -b 100 -q >/dev/null 2>&1
	sleep 0.2
	sed -n 's/.*mss=\([0-9]*\).*/\1/p' "$OPTLOG" | tail -n 1
}

# == jumbo frames ===============================================================
lab_up 9000 || { bad "lab (MTU 9000)" "could not build the namespaces"; exit 1; }

declare -A DIRECT
for a in $SRV4 $SRV6; do
	DIRECT[$a]=$(transfers $a 10 1048576)
	DIRECT[mss$a]=$(server_mss $a)
done
[[ ${DIRECT[$SRV4]} == "ok=10 failed=0"* && ${DIRECT[$SRV6]} == "ok=10 failed=0"* ]]
check "MTU 9000, direct: 10 x 1 MB echoed v4 and v6 (MSS ${DIRECT[mss$SRV4]}/${DIRECT[mss$SRV6]})" $? \
	"v4: ${DIRECT[$SRV4]}; v6: ${DIRECT[$SRV6]}"

out=$(x attach "$IF" --ports $PORT 2>&1); rc=$?
check "MTU 9000: native attach (a multi-buffer program)" $rc "$out"
mode=$(x status "$IF" -j 2>/dev/null | jq -r '.interfaces[0].mode // .mode // empty')
[ "$mode" = native ]
check "MTU 9000: status says native mode" $? "mode '$mode'"

before=$(counter synack_tx)
for a in $SRV4 $SRV6; do
	out=$(transfers $a 10 1048576)
	[[ $out == "ok=10 failed=0"* ]]
	check "MTU 9000 through xdpsyn: 10 x 1 MB echoed byte-exact to $a, as direct ($out)" $? "$out"
	mss=$(server_mss $a)
	[ -n "$mss" ] && [ "$mss" = "${DIRECT[mss$a]}" ]
	check "MTU 9000 through xdpsyn: the server sends with MSS $mss to $a, as direct" $? \
		"MSS '$mss', direct '${DIRECT[mss$a]}'"
done
after=$(counter synack_tx)
[ $((after - before)) -ge 22 ]
check "MTU 9000: the handshakes were answered in XDP (synack_tx +$((after - before)))" $? \
	"synack_tx moved by $((after - before))"

# a bounded spoofed flood from the client's side, with legit connections
SRV_MAC=$(srv ip -br link show dev "$IF" | awk '{print $3}')
before=$(counter synack_tx)
cli "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$SRV_MAC" --dport $PORT \
	--src-net $FLOOD_NET4 --count 30000 --duration 5 -q >"$FLOODOUT" 2>&1 &
fp=$!
sleep 0.3
out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 50 -b 65536 -t 3000 2>&1); rc=$?
wait $fp; frc=$?
after=$(counter synack_tx)
check "MTU 9000 under a spoofed SYN flood ($(cat "$FLOODOUT")): 50/50 legit connections ($out)" \
	$((rc | frc)) "$out"
[ $((after - before)) -ge 30000 ]
check "MTU 9000: the flood's 30 000 SYNs answered in XDP (synack_tx +$((after - before)))" $? \
	"synack_tx moved by $((after - before))"
[ "$(counter malformed)" = 0 ] && [ "$(counter tx_error)" = 0 ]
check "MTU 9000: nothing counted malformed or tx_error" $? \
	"malformed $(counter malformed), tx_error $(counter tx_error)"
out=$(x detach "$IF" 2>&1)
check "MTU 9000: detach" $? "$out"

# == VLAN tags offloaded (rx-vlan-offload) ======================================
# VLAN 10 on both ends, the tag in the skb's metadata on the wire between
# them: egress tags every frame, ingress accepts only VLAN 10 frames
for side in c:eth0:"$NS_C" s:"$IF":"$NS_S"; do
	IFS=: read -r tag dev ns <<<"$side"
	for dir in egress ingress; do
		nsenter --net=/var/run/netns/"$ns" "$TCXLOAD" tc "$dev" $dir \
			"$ROOT/build/vlan_emu.bpf.o" "$PINS/$tag-$dir" 0 5 $VID >/dev/null ||
			{ bad "VLAN emulation" "loading vlan_emu on $dev $dir failed"; exit 1; }
	done
done
# vlan_emu's counters on the client's ingress: fin= untagged frames
# dropped, tcp= VLAN 10 frames accepted, syn= SYN-ACKs among them
untagged() { "$TCXLOAD" count "$PINS/c-ingress" | sed -n 's/^fin=\([0-9]*\).*/\1/p'; }
tagged_synacks() { "$TCXLOAD" count "$PINS/c-ingress" | sed -n 's/.* syn=\([0-9]*\).*/\1/p'; }

u0=$(untagged); s0=$(tagged_synacks)
d4=$(transfers $SRV4 5 1000); d6=$(transfers $SRV6 5 1000)
[[ $d4 == "ok=5 failed=0"* && $d6 == "ok=5 failed=0"* ]] && [ "$(untagged)" = "$u0" ] &&
	[ $(($(tagged_synacks) - s0)) -eq 10 ]
check "VLAN $VID (offloaded tags), direct: 5+5 connections, every SYN-ACK tagged" $? \
	"v4: $d4; v6: $d6; untagged drops $u0 -> $(untagged)"

# the failure --vlan metadata fixes: XDP sees no tag, its SYN-ACK has none
out=$(x attach "$IF" --ports $PORT --vlan frame 2>&1) ||
	bad "attach --vlan frame" "$out"
u0=$(untagged)
out=$(transfers $SRV4 1 1000)
grep -q "^ok=0 failed=1" <<<"$out" && [ "$(untagged)" -gt "$u0" ]
check "VLAN $VID, --vlan frame: the SYN-ACK leaves untagged and is lost (what metadata fixes)" $? \
	"$out; untagged drops $u0 -> $(untagged)"
x detach "$IF" >/dev/null 2>&1

out=$(x attach "$IF" --ports $PORT --vlan metadata 2>&1); rc=$?
check "VLAN $VID: attach --vlan metadata (bpf_xdp_metadata_rx_vlan_tag, bound to the device)" $rc "$out"
vl=$(x status "$IF" -j 2>/dev/null | jq -r '.. | .vlan? // empty' | head -n 1)
[ "$vl" = metadata ]
check "VLAN $VID: status -j says vlan metadata" $? "vlan '$vl'"
u0=$(untagged); s0=$(tagged_synacks); t0=$(counter synack_tx)
m4=$(transfers $SRV4 5 1000); m6=$(transfers $SRV6 5 1000)
[[ $m4 == "ok=5 failed=0"* && $m6 == "ok=5 failed=0"* ]]
check "VLAN $VID through xdpsyn: 5+5 connections v4/v6 as direct ($m4 / $m6)" $? "v4: $m4; v6: $m6"
[ "$(untagged)" = "$u0" ] && [ $(($(tagged_synacks) - s0)) -eq 10 ] &&
	[ $(($(counter synack_tx) - t0)) -eq 10 ]
check "VLAN $VID through xdpsyn: the 10 SYN-ACKs came from XDP, every one tagged $VID" $? \
	"tagged SYN-ACKs +$(($(tagged_synacks) - s0)), synack_tx +$(($(counter synack_tx) - t0)), untagged drops $u0 -> $(untagged)"
n=$(x flows "$IF" -j 2>/dev/null | jq "[.. | objects | select(has(\"vlan\") and .vlan == $VID)] | length")
[ "${n:-0}" -ge 10 ]
check "VLAN $VID: flows shows the VLAN of the connections ($n records with vlan $VID)" $? "flows: $n"
[ "$(counter syn_vlan_unknown)" = 0 ]
check "VLAN $VID: no SYN with an unknown tag" $? "syn_vlan_unknown $(counter syn_vlan_unknown)"
x detach "$IF" >/dev/null 2>&1

# generic mode: the skb keeps its offloaded tag through XDP_TX
out=$(x attach "$IF" --ports $PORT --mode generic 2>&1); rc=$?
check "VLAN $VID: attach --mode generic (--vlan auto: the skb keeps its tag)" $rc "$out"
ip -n "$NS_C" link set dev eth0 xdpdrv off
u0=$(untagged); t0=$(counter synack_tx)
g4=$(transfers $SRV4 5 1000); g6=$(transfers $SRV6 5 1000)
[[ $g4 == "ok=5 failed=0"* && $g6 == "ok=5 failed=0"* ]] && [ "$(untagged)" = "$u0" ] &&
	[ $(($(counter synack_tx) - t0)) -eq 10 ]
check "VLAN $VID, generic mode: 5+5 connections through xdpsyn, SYN-ACKs tagged ($g4 / $g6)" $? \
	"v4: $g4; v6: $g6; synack_tx +$(($(counter synack_tx) - t0)); untagged drops $u0 -> $(untagged)"
x detach "$IF" >/dev/null 2>&1

out=$(x attach "$IF" --ports $PORT --mode generic --vlan metadata 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "leave --vlan out" <<<"$out" && [ ! -e "/sys/fs/bpf/xdpsyn/$IF" ]
check "--vlan metadata in generic mode: refused (exit 2) with what to do" $? "exit $rc: $out"

[ "$FAIL" -eq 0 ]
