#!/usr/bin/env bash
# Gateway mode's CLI (issue 16) in the gateway lab (bench/gwlab.sh): what
# attach --gateway refuses (a table of named cases, each checked to leave
# nothing behind), what it attaches and pins, status, set, servers, flows,
# the metrics, detach keeping the state table, re-attach reusing it,
# --flush-state, generic mode with clsact, and the servers' interface
# vanishing. Nothing here depends on traffic being proxied (the data path
# is tested elsewhere); connections' state is written with bpftool.
# Ends with "N passed, N failed"; needs root (else SKIP, exit 77).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: gateway CLI tests need root (network namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
XDPSYN=${XDPSYN:-$ROOT/build/xdpsyn}
GWLAB_ID=${GWLAB_ID:-gc$$}
source bench/gwlab.sh
PASS=0 FAIL=0
ok()  { echo "ok   $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

TMPD=$(mktemp -d /tmp/xs-gwcli.XXXXXX)
GW_IFX=gx-$GWLAB_ID # a servers' side interface that goes away
GW_BR=gb-$GWLAB_ID  # a clients' side without native XDP
finish() {
	local i
	for i in "$GW_IFC" "$GW_IFS" "$GW_IFX" "$GW_BR"; do
		# (an xdpsyn without --flush-state: a plain detach)
		[ -e "/sys/fs/bpf/xdpsyn/$i" ] &&
			{ gw_ns "$GW_NS_GW" "$XDPSYN" detach "$i" --flush-state ||
			  gw_ns "$GW_NS_GW" "$XDPSYN" detach "$i"; } >/dev/null 2>&1
	done
	gwlab_down; rm -rf "$TMPD"; echo "$PASS passed, $FAIL failed"
}
trap finish EXIT
trap 'exit 1' INT TERM

x() { gw_ns "$GW_NS_GW" "$XDPSYN" "$@"; }
PIN_DIR=/sys/fs/bpf/xdpsyn/$GW_IFC
st() { x status "$GW_IFC" -j | jq -r "$1"; }
stc() { x status "$GW_IFC" -j | jq -c "$1"; }
xdp_id() { ip -n "$GW_NS_GW" -j link show dev "$1" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty'; }
TCXCTL=$TMPD/tcxctl
tcx_ids() { gw_ns "$GW_NS_GW" "$TCXCTL" list "$1" ingress | tr '\n' ' ' | sed 's/ $//'; }
# nothing of xdpsyn's on either gateway interface, no pins
nothing_left() {
	[ ! -e "$PIN_DIR" ] && [ ! -e "/sys/fs/bpf/xdpsyn/$GW_IFS" ] &&
		[ -z "$(xdp_id "$GW_IFC")$(xdp_id "$GW_IFS")" ] && [ -z "$(tcx_ids "$GW_IFS")" ] &&
		[ -z "$(ip netns exec "$GW_NS_GW" tc filter show dev "$GW_IFS" ingress 2>/dev/null)" ]
}
what_is_left() {
	echo "pins: $(ls "$PIN_DIR" 2>&1 | tr '\n' ' ') xdp: $(xdp_id "$GW_IFC")/$(xdp_id "$GW_IFS") tcx: $(tcx_ids "$GW_IFS")"
}
# a connection's state in xdpsyn_gw_conns, as the BPF programs would make
# it: CLIENT SERVER CPORT SPORT STATE FLAGS
conn_add() {
	# shellcheck disable=SC2046
	bpftool map update pinned "$PIN_DIR/xdpsyn_gw_conns" $(python3 - "$@" <<'PY'
import socket, struct, sys, time
c, s, cp, sp, state, flags = sys.argv[1:7]
fam = 1 if ':' in c else 0
af = socket.AF_INET6 if fam else socket.AF_INET
key = struct.pack("<B3x16s16s", fam, socket.inet_pton(af, c).ljust(16, b'\0'),
                  socket.inet_pton(af, s).ljust(16, b'\0')) + struct.pack(">HH", int(cp), int(sp))
now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
val = b'\0' * 16 + struct.pack("<QQQQ", now - 5 * 10**9, now - 10**9, 12, 34)
val += struct.pack("<9I", 1, 2, 3, 4, 5, 6, 7, 1234, 567)
val += struct.pack("<5H", int(flags, 0), 100, 1460, 1400, 0)
val += struct.pack("<4B2x", int(state), 7, 10, 0xf) + b'\0' * 4
hx = lambda b: " ".join("%02x" % x for x in b)
print("key hex", hx(key), "value hex", hx(val))
PY
)
}

${CC:-cc} -O2 -Wall -Wextra -Werror -o "$TCXCTL" tests/tools/tcxctl.c ||
	{ bad "build tests/tools/tcxctl.c" "cc failed"; exit 1; }
gwlab_up || { bad "gateway lab setup" "could not build the namespaces"; exit 1; }
# the lab runs xdp_pass on the gateway's interfaces: xdpsyn's go there
ip -n "$GW_NS_GW" link set dev "$GW_IFC" xdpdrv off
ip -n "$GW_NS_GW" link set dev "$GW_IFS" xdpdrv off
A=(attach "$GW_IFC" --ports 80,443)

# -- refused: NAME | EXIT | message (grep -E) | arguments after attach IFACE_C --ports 80,443
CASES=(
	"IFACE_S missing|2|nosuch0: no such interface.*toward the servers|--gateway nosuch0"
	"IFACE_S is IFACE_C|2|must be another interface than $GW_IFC|--gateway $GW_IFC"
	"--policy track with --gateway|2|--policy track with --gateway.*leave --policy out|--gateway $GW_IFS --policy track"
	"--policy auto with --gateway|2|--policy auto with --gateway|--gateway $GW_IFS --policy auto --syn-rate 100"
	"--handoff kernel-cookie with --gateway|2|--handoff kernel-cookie with --gateway|--gateway $GW_IFS --handoff kernel-cookie"
	"--vlan metadata with --gateway|2|--vlan metadata with --gateway.*rxvlan off|--gateway $GW_IFS --vlan metadata"
	"a gateway setting without --gateway|2|--gw-idle is a gateway setting: add --gateway IFACE_S|--gw-idle 5"
	"--servers without --gateway|2|--servers is a gateway setting|--servers 10.201.21.0/24"
	"a prefix length out of range|2|10.201.21.0/33.*prefix length 0..32|--gateway $GW_IFS --servers 10.201.21.0/33"
	"not an address|2|\"10.201.x\": not an IPv4 or IPv6 address|--gateway $GW_IFS --servers 10.201.x/24"
	"IFACE_S loopback|2|loopback interface cannot lead to the servers|--gateway lo"
)
for c in "${CASES[@]}"; do
	IFS='|' read -r name want msg args <<<"$c"
	# shellcheck disable=SC2086
	out=$(x "${A[@]}" $args 2>&1); rc=$?
	[ $rc -eq "$want" ] && grep -qE -- "$msg" <<<"$out" && nothing_left
	check "refused, $name: exit $want, says so, nothing left" $? "rc=$rc: $out; $(what_is_left)"
done
# forwarding off: exit 4 naming the sysctl; IPv6 off: a warning only
gw_ns "$GW_NS_GW" sysctl -qw net.ipv4.ip_forward=0
out=$(x "${A[@]}" --gateway "$GW_IFS" 2>&1); rc=$?
gw_ns "$GW_NS_GW" sysctl -qw net.ipv4.ip_forward=1
[ $rc -eq 4 ] && grep -q "sysctl -w net.ipv4.ip_forward=1" <<<"$out" && nothing_left
check "refused, IPv4 forwarding off: exit 4, names sysctl -w net.ipv4.ip_forward=1" $? "rc=$rc: $out"

# -- attach -----------------------------------------------------------------------
gw_ns "$GW_NS_GW" sysctl -qw net.ipv6.conf.all.forwarding=0
out=$(x "${A[@]}" --gateway "$GW_IFS" --servers 10.201.21.7/24,fd00:201::21:0/112 \
	--gw-conns 5000 --gw-idle 600 --gw-adopt 60 2>&1); rc=$?
gw_ns "$GW_NS_GW" sysctl -qw net.ipv6.conf.all.forwarding=1
[ $rc -eq 0 ] && grep -q "warning: net.ipv6.conf.all.forwarding: is 0" <<<"$out" &&
	grep -q "attached in native mode as a gateway to $GW_IFS" <<<"$out"
check "attach --gateway (IPv6 forwarding off: a warning)" $? "rc=$rc: $out"
pins=$(ls "$PIN_DIR" | tr '\n' ' ')
for p in prog_xdp prog_xdp_srv prog_tc_srv xdpsyn_gw_conns xdpsyn_gw_servers xdpsyn_gw_prefixes xdpsyn_meta xdpsyn_config; do
	[[ " $pins" == *" $p "* ]] || bad "pin $p" "missing: $pins"
done
[[ " $pins" != *" prog_tc "* && " $pins" != *" prog_tc_egress "* && " $pins" != *" xdpsyn_handoff_err "* ]]
check "pins: the gateway's, IFACE_S's programs, no local TC hand-off ($pins)" $? "$pins"
[ -n "$(xdp_id "$GW_IFC")" ] && [ -n "$(xdp_id "$GW_IFS")" ] &&
	[ "$(tcx_ids "$GW_IFS")" = "$(st .gateway.tc_prog_id_s)" ] && [ "$(st .gateway.tc_mechanism_s)" = tcx ]
check "XDP on both interfaces, xdpsyn_gw_tc first on $GW_IFS's tcx ingress" $? \
	"xdp $(xdp_id "$GW_IFC")/$(xdp_id "$GW_IFS") tcx $(tcx_ids "$GW_IFS") status $(stc .gateway)"
[ "$(st .state)" = attached ] && [ "$(st .gateway.iface_s)" = "$GW_IFS" ] &&
	[ "$(stc .gateway.servers)" = '["10.201.21.0/24","fd00:201::21:0/112"]' ] &&
	[ "$(st .gateway.state_table.max)" = 5000 ] && [ "$(st .gateway.gw_idle_s)" = 600 ] &&
	[ "$(st .gateway.gw_syn_timeout_s)" = 20 ] && [ "$(st .gateway.adopt_left_s)" -gt 50 ] &&
	[ "$(st .handoff)" = null ] && [ "$(st '.warnings | length')" = 0 ]
check "status -j: the gateway section (IFACE_S, masked prefixes, table max, settings, adopt window)" $? \
	"$(x status "$GW_IFC" -j | jq -c '{state, gateway, warnings}')"
out=$(x status "$GW_IFC")
grep -q "gateway  $GW_IFC (clients) -> $GW_IFS (servers)" <<<"$out" && grep -q "state    0 of 5000:" <<<"$out" &&
	! grep -q "hand-off" <<<"$out"
check "status: the gateway section" $? "$out"

# -- the other side is taken ------------------------------------------------------
out=$(x attach "$GW_IFS" --ports 80 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q "$GW_IFS: the servers' side of the gateway attached to $GW_IFC: xdpsyn detach $GW_IFC first" <<<"$out"
check "attach IFACE_S (local mode) refused while the gateway exists, naming it" $? "rc=$rc: $out"
out=$(x attach "$GW_IFS" --ports 80 --gateway "$GW_IFC" 2>&1); rc=$?
[ $rc -eq 3 ]
check "attach IFACE_S --gateway IFACE_C refused" $? "rc=$rc: $out"
out=$(x detach "$GW_IFS" 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q "xdpsyn detach $GW_IFC" <<<"$out" && [ -n "$(xdp_id "$GW_IFS")" ]
check "detach IFACE_S refused, naming the gateway's IFACE_C" $? "rc=$rc: $out"

# -- set ----------------------------------------------------------------------------
out=$(x set "$GW_IFC" gw-idle=100 gw-close=5 gw-syn-timeout=7 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$(st '[.gateway.gw_idle_s, .gateway.gw_close_s, .gateway.gw_syn_timeout_s] | join(" ")')" = "100 5 7" ]
check "set gw-idle gw-close gw-syn-timeout" $? "rc=$rc: $out $(stc .gateway)"
out=$(x set "$GW_IFC" policy=track 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "is a gateway" <<<"$out" && [ "$(st .policy.policy)" = proxy ]
check "set policy=track refused on a gateway" $? "rc=$rc: $out"

out=$(x key rotate "$GW_IFC" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$(st .key_slot)" = 1 ]
check "key rotate on a gateway" $? "rc=$rc: $out"

# -- servers ------------------------------------------------------------------------
out=$(x servers "$GW_IFC" set 10.201.21.2 80 mss=1400 ws=7 ts=on sack=on 2>&1 &&
	x servers "$GW_IFC" set fd00:201::21:2 443 ecn=on 2>&1); rc=$?
j=$(x servers "$GW_IFC" -j)
[ $rc -eq 0 ] && [ "$(jq -c '[.servers[] | [.addr, .port, .mss, .ws, .ts, .sack, .ecn, .source]] | sort' <<<"$j")" = \
	'[["10.201.21.2",80,1400,7,true,true,false,"static"],["fd00:201::21:2",443,1440,null,false,false,true,"static"]]' ]
check "servers set: static entries, listed (-j)" $? "rc=$rc: $out $j"
out=$(x servers "$GW_IFC"); grep -qE '^10\.201\.21\.2:80 +1400 +7 on +on +off +static' <<<"$out"
check "servers: the table" $? "$out"
out=$(x servers "$GW_IFC" unset 10.201.21.2 80 2>&1); rc=$?
out2=$(x servers "$GW_IFC" unset 10.201.21.2 80 2>&1); rc2=$?
[ $rc -eq 0 ] && [ $rc2 -eq 3 ] && [ "$(x servers "$GW_IFC" -j | jq '.servers | length')" = 1 ]
check "servers unset: removed; again: exit 3" $? "rc=$rc $out / rc=$rc2 $out2"
out=$(x servers "$GW_IFC" set 10.201.21.2 80 ws=15 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "ws=15: expected 0..14 or none" <<<"$out"
check "servers set ws=15 refused" $? "rc=$rc: $out"

# -- stats and metrics ---------------------------------------------------------------
n=$(x stats "$GW_IFC" -j | jq '.counters | keys | map(select(startswith("gw_"))) | length')
want=$(grep -c '^[[:space:]]*X(GW_' "$ROOT/include/xdpsyn.h")
[ "$n" = "$want" ] && [ "$want" -gt 0 ]
check "stats -j: every gw_* counter of include/xdpsyn.h ($want)" $? "$n"
prom=$(x stats --prometheus "$GW_IFC")
grep -q "^xdpsyn_gw_conns_max{ifname=\"$GW_IFC\",ifindex=\"[0-9]*\"} 5000$" <<<"$prom" &&
	grep -q "^xdpsyn_gw_conns{ifname=\"$GW_IFC\",ifindex=\"[0-9]*\",state=\"established\"} 0$" <<<"$prom" &&
	grep -q "^xdpsyn_gw_srv_conns_total{ifname=\"$GW_IFC\",ifindex=\"[0-9]*\",server=\"fd00:201::21:2\",port=\"443\"} 0$" <<<"$prom" &&
	grep -q "^xdpsyn_gw_synack_timeout_total{" <<<"$prom" &&
	[ "$(grep '^# TYPE' <<<"$prom" | awk '{print $3}' | sort | uniq -d)" = "" ]
check "stats --prometheus: the gateway gauges and per-server counters, no family twice" $? \
	"$(grep -E 'gw_conns|gw_srv' <<<"$prom" | head -5) dup: $(grep '^# TYPE' <<<"$prom" | awk '{print $3}' | sort | uniq -d)"
if [ -x build/promtool ]; then
	out=$(build/promtool check metrics <<<"$prom" 2>&1 | grep -v 'counter metrics should have "_total" suffix'); rc=${PIPESTATUS[0]}
	[ $rc -eq 0 ] || [ -z "$out" ]
	check "promtool check metrics" $? "$out"
fi

# -- flows and the state table --------------------------------------------------------
conn_add 10.201.20.2 10.201.21.2 40000 80 2 0x0457 >/dev/null &&
	conn_add fd00:201::20:2 fd00:201::21:2 40001 443 1 0x0800 >/dev/null
check "two connections' state written (bpftool)" $? ""
j=$(x flows "$GW_IFC" -j)
[ "$(jq -c '[.count, .max, ([.flows[] | "\(.client):\(.cport)>\(.server):\(.sport) \(.state) \(.c_rtt_us) \(.s_rtt_us) \(.client_opts.ts) \(.server_opts.sack) \(.adopted) \(.rst)"] | sort)]' <<<"$j")" = \
	'[2,5000,["10.201.20.2:40000>10.201.21.2:80 established 1234 567 true false true false","fd00:201::20:2:40001>fd00:201::21:2:443 syn_sent 1234 567 false false false true"]]' ]
check "flows -j: the state table" $? "$j"
out=$(x flows "$GW_IFC" --state syn_sent)
grep -q "1 match --state syn_sent" <<<"$out" && grep -q "RST" <<<"$out" && ! grep -q "10.201.20.2:40000" <<<"$out"
check "flows --state syn_sent" $? "$out"
[ "$(stc '.gateway.state_table.states')" = '{"syn_sent":1,"established":1,"fin_wait":0,"closed":0}' ]
check "status: the table by state" $? "$(stc .gateway.state_table)"

# -- detach keeps the state table -------------------------------------------------------
out=$(x detach "$GW_IFC" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "2 connections' state kept" <<<"$out" && grep -q -- "--flush-state" <<<"$out" &&
	[ "$(ls "$PIN_DIR")" = xdpsyn_gw_conns ] && [ -z "$(xdp_id "$GW_IFC")$(xdp_id "$GW_IFS")" ] &&
	[ -z "$(tcx_ids "$GW_IFS")" ]
check "detach: both interfaces' programs gone, the state table kept, says so" $? "rc=$rc: $out; $(what_is_left)"
[ "$(st .state)" = "detached, gateway state kept" ] && [ "$(st .gateway.kept_only)" = true ] &&
	[ "$(st .gateway.state_table.count)" = 2 ] && x status "$GW_IFC" | grep -q "not attached: 2 connections' state kept"
check "status of the detached gateway: state kept" $? "$(x status "$GW_IFC" -j | jq -c .)"
[ "$(x flows "$GW_IFC" -j | jq .count)" = 2 ]
check "flows of the detached gateway: the kept table" $? "$(x flows "$GW_IFC" 2>&1)"
out=$(x detach "$GW_IFC" 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q "flush-state removes it" <<<"$out" && [ -e "$PIN_DIR/xdpsyn_gw_conns" ]
check "detach again without --flush-state: exit 3, kept" $? "rc=$rc: $out"
out=$(x attach "$GW_IFC" --ports 80 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q "detach $GW_IFC --flush-state" <<<"$out" && [ -z "$(xdp_id "$GW_IFC")" ]
check "local-mode attach over the kept table refused, naming --flush-state" $? "rc=$rc: $out"
out=$(x "${A[@]}" --gateway "$GW_IFS" --gw-conns 100 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q "does not fit.*--gw-conns 5000.*--flush-state" <<<"$out" &&
	[ "$(ls "$PIN_DIR")" = xdpsyn_gw_conns ] && [ -z "$(xdp_id "$GW_IFC")$(xdp_id "$GW_IFS")" ]
check "re-attach with another --gw-conns refused, the kept table untouched" $? "rc=$rc: $out; $(what_is_left)"
out=$(x "${A[@]}" --gateway "$GW_IFS" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "2 connections' state reused" <<<"$out" && [ "$(st .gateway.state_table.count)" = 2 ] &&
	[ "$(st .gateway.state_table.max)" = 5000 ] && [ "$(x flows "$GW_IFC" -j | jq .count)" = 2 ]
check "re-attach reuses the kept table (its size), says so" $? "rc=$rc: $out"
out=$(x detach "$GW_IFC" --flush-state 2>&1); rc=$?
[ $rc -eq 0 ] && nothing_left
check "detach --flush-state: nothing left" $? "rc=$rc: $out; $(what_is_left)"

# -- generic mode, clsact -------------------------------------------------------------
out=$(x "${A[@]}" --gateway "$GW_IFS" --mode generic --tc clsact 2>&1); rc=$?
f=$(ip netns exec "$GW_NS_GW" tc filter show dev "$GW_IFS" ingress)
[ $rc -eq 0 ] && grep -q "attached in generic mode" <<<"$out" && [ "$(st .gateway.tc_mechanism_s)" = clsact ] &&
	grep -q "xdpsyn_gw_tc" <<<"$f" && [ "$(st .gateway.xdp_s_attached)" = true ] &&
	[ "$(ip -n "$GW_NS_GW" -j link show dev "$GW_IFS" | jq -r '.[0].xdp.mode')" = 2 ]
check "--mode generic --tc clsact: generic XDP on both, a clsact filter on IFACE_S" $? "rc=$rc: $out; $f"
out=$(x detach "$GW_IFC" --flush-state 2>&1); rc=$?
[ $rc -eq 0 ] && nothing_left && ! ip netns exec "$GW_NS_GW" tc qdisc show dev "$GW_IFS" | grep -q clsact
check "detach: the filter and the clsact qdisc attach made are gone" $? "rc=$rc: $out; $(what_is_left)"

# -- two attaches at once: the gateway, and a local one on its IFACE_S ---------------------
for round in 1 2 3; do
	gw_ns "$GW_NS_GW" "$XDPSYN" "${A[@]}" --gateway "$GW_IFS" >"$TMPD/g" 2>&1 & pg=$!
	gw_ns "$GW_NS_GW" "$XDPSYN" attach "$GW_IFS" --ports 80 >"$TMPD/l" 2>&1 & pl=$!
	wait $pg; rg=$?; wait $pl; rl=$?
	if [ $rg -eq 0 ]; then
		[ $rl -eq 3 ] && grep -q "servers' side of the gateway attached to $GW_IFC" "$TMPD/l"
	else
		[ $rg -eq 3 ] && [ $rl -eq 0 ] && grep -q "$GW_IFS: already attached" "$TMPD/g"
	fi
	check "round $round: gateway and local attach at once: one wins (gateway rc=$rg, local rc=$rl), the other refused" $? \
		"$(cat "$TMPD/g" "$TMPD/l")"
	for i in "$GW_IFC" "$GW_IFS"; do
		[ -e "/sys/fs/bpf/xdpsyn/$i" ] && x detach "$i" --flush-state >/dev/null 2>&1
	done
	nothing_left || bad "round $round: detach" "$(what_is_left)"
done

# -- a failure midway is undone -----------------------------------------------------------
# IFACE_S's TC and XDP programs are attached first; a bridge as IFACE_C then
# refuses native XDP: attach must take IFACE_S's programs off again
ip -n "$GW_NS_GW" link add "$GW_BR" type bridge && ip -n "$GW_NS_GW" link set "$GW_BR" up
out=$(x attach "$GW_BR" --ports 80 --gateway "$GW_IFS" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "attaching XDP in native mode.*try --mode generic" <<<"$out" &&
	[ ! -e "/sys/fs/bpf/xdpsyn/$GW_BR" ] && nothing_left
check "native XDP refused on IFACE_C after IFACE_S's programs: exit 1, all undone" $? \
	"rc=$rc: $out; $(what_is_left) $(ls "/sys/fs/bpf/xdpsyn/$GW_BR" 2>&1)"
ip -n "$GW_NS_GW" link del "$GW_BR"

# -- the servers' interface vanishes ----------------------------------------------------
ip -n "$GW_NS_GW" link add "$GW_IFX" type veth peer name "${GW_IFX}p" &&
	ip -n "$GW_NS_GW" link set "$GW_IFX" up && ip -n "$GW_NS_GW" link set "${GW_IFX}p" up
out=$(x "${A[@]}" --gateway "$GW_IFX" 2>&1); rc=$?
ip -n "$GW_NS_GW" link del "$GW_IFX"
[ $rc -eq 0 ] && [ "$(st .state)" = "servers' interface gone" ]
check "IFACE_S deleted while attached: status says so" $? "rc=$rc: $out $(st .state)"
out=$(x detach "$GW_IFC" --flush-state 2>&1); rc=$?
[ $rc -eq 0 ] && nothing_left
check "IFACE_S deleted: detach --flush-state works, nothing left" $? "rc=$rc: $out; $(what_is_left)"
[ $FAIL -eq 0 ]
