#!/usr/bin/env bash
# End-to-end tests of the track and auto policies (issue 8), in the lab of
# tests/e2e/lib.sh:
#   track  real connections recorded as established with both halves of the
#          handshake time; a SYN nobody answers shows as incomplete, then
#          timed out, with the kernel's SYN-ACK retransmissions counted;
#          a refused port shows as reset; incomplete handshakes in `top`
#   auto   a bounded flood above --syn-rate flips to proxy within a second
#          while real clients keep connecting, and it flips back after calm;
#          the kernel's own SYN cookies also flip it
#   switch `xdpsyn set policy=` while a handshake is in flight, both ways:
#          the kernel's handshake and our cookie's both still complete
# Figures are checked against independent sources where there is one: the
# server's nstat (SYN cookies sent), the flood's own start time, the
# clients' own exit status. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: track tests need root (network namespaces, BPF)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
source tests/e2e/lib.sh
PORT=8080          # tcpecho, backlog 4096
PORT_REFUSED=8081  # protected, no listener
PORT_SMALL=8082    # tcpecho with backlog 8: the kernel sends cookies early
NCONN=20
PASS=0 FAIL=0
ok()   { echo "ok   $1"; PASS=$((PASS + 1)); }
bad()  { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
check() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

TMP=$(mktemp -d)
NFT_TABLE=xstrack$$
finish() {
	in_ns "$NS_CLI" nft delete table inet "$NFT_TABLE" 2>/dev/null
	lab_down
	rm -rf "$TMP"
	echo "$PASS passed, $FAIL failed"
}
trap finish EXIT
trap 'exit 1' INT TERM

srv() { in_ns "$NS_SRV" "$@"; }
cli() { in_ns "$NS_CLI" "$@"; }
atk() { in_ns "$NS_ATK" "$@"; }
x() { srv "$XDPSYN" "$@"; }
counter() { x stats "$SRV_IF" -j | jq -r ".counters.$1 // empty"; }
pstate() { x status "$SRV_IF" -j | jq -r ".policy.$1 // empty"; }
# wait_until SECS CMD...: poll every 50 ms until CMD succeeds
wait_until() {
	local i n=$(($1 * 20)); shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.05; done
	return 1
}
flood() { # flood SRC_NET DPORT COUNT RATE: bounded, from the attacker
	atk "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$SRV_MAC" --dport "$2" \
		--src-net "$1" --count "$3" --rate "$4" --duration 10 >"$TMP/flood.out" 2>&1
}
now() { date +%s.%N; }

lab_up || { bad "lab setup" "could not build the namespaces"; exit 1; }
lab_bg "$NS_SRV" "$ROOT/build/tcpecho" serve $PORT
lab_bg "$NS_SRV" env TCPECHO_BACKLOG=8 "$ROOT/build/tcpecho" serve $PORT_SMALL
SRV_MAC=$(srv ip -br link show dev "$SRV_IF" | awk '{print $3}')
# spoofed sources are routed to the attacker (which drops what it gets), so
# the kernel's SYN-ACKs to them leave the server and pass TC egress
srv ip route add "$FLOOD_NET4" via $ATK4 dev "$SRV_IF"
sleep 0.3

# ---- track -----------------------------------------------------------------
out=$(x attach "$SRV_IF" --ports $PORT,$PORT_REFUSED,$PORT_SMALL --policy track \
	--handshake-timeout 3 2>&1)
check "attach --policy track --handshake-timeout 3" $? "$out"
[ "$(pstate policy)" = track ] && [ "$(pstate state)" = track ]
check "status -j: policy track, state track" $? "$(x status "$SRV_IF" -j | jq -c .policy)"

out=$(cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n $NCONN 2>&1)
check "track: $NCONN real connections succeed" $? "$out"
F=$(x flows "$SRV_IF" -j)
E=$(jq -c --arg c $CLI4 '[.flows[] | select(.saddr == $c and .state == "established")]' <<<"$F")
[ "$(jq length <<<"$E")" = $NCONN ]
check "track: flows -j has the $NCONN connections as established" $? \
	"$(jq -c '[.flows[] | [.saddr, .sport, .state]]' <<<"$F")"
jq -e 'all(.[]; .server_ms > 0 and .client_ms > 0)' <<<"$E" >/dev/null
check "track: both halves > 0 for every one (server $(jq -c '[.[].server_ms] | [min, max]' <<<"$E") ms, client $(jq -c '[.[].client_ms] | [min, max]' <<<"$E") ms)" \
	$? "$(jq -c '[.[] | [.server_ms, .client_ms]]' <<<"$E")"
jq -e 'all(.[]; .client.mss == 1460 and .server.mss == 1460 and .client.sack and
	.client.ts and .server.sack and .server.ts and .client.wscale != null and
	.server.wscale != null and .syn_retrans == 0 and .synack_retrans == 0)' <<<"$E" >/dev/null
check "track: client and server options recorded (MSS 1460 each side, SACK, TS, WS), no retransmissions" \
	$? "$(jq -c '[.[] | [.client, .server, .syn_retrans, .synack_retrans]] | unique' <<<"$E")"
[ "$(counter handoff_invalid)" = 0 ] && [ "$(counter handoff_ok)" = 0 ]
check "track: TC ingress leaves the kernel's own handshakes alone (handoff_invalid 0, handoff_ok 0)" $? \
	"$(x stats "$SRV_IF" -j | jq -c '.counters | {handoff_ok, handoff_invalid, handoff_err}')"
[ "$(counter synack_tx)" = 0 ] && [ "$(counter track_established)" -ge $NCONN ] &&
	[ "$(counter track_syn)" -ge $NCONN ] && [ "$(counter track_synack)" -ge $NCONN ]
check "track: counters: synack_tx 0 (XDP answered nothing), track_syn/synack/established >= $NCONN" $? \
	"$(x stats "$SRV_IF" -j | jq -c '.counters | {synack_tx, track_syn, track_synack, track_established}')"
FOLLOW=$TMP/follow.jsonl
# nsenter itself in the background (not a shell function: its subshell
# would carry this script's traps), so $! is the command's own pid
nsenter --net=/var/run/netns/"$NS_SRV" "$XDPSYN" flows "$SRV_IF" --follow -j >"$FOLLOW" 2>&1 &
fpid=$!
sleep 0.5
cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 3 >/dev/null 2>&1
sleep 0.5
kill -INT $fpid; wait $fpid
jq -se 'length == 3 and all(.[]; .state == "established" and .client_ms > 0)' "$FOLLOW" >/dev/null
check "track: flows --follow -j prints each tracked completion as it happens (3)" $? "$(cat "$FOLLOW")"
out=$(cli "$ROOT/build/tcpecho" client $SRV6 $PORT -n 5 2>&1)
check "track: 5 IPv6 connections succeed" $? "$out"
E6=$(x flows "$SRV_IF" -j | jq -c --arg c $CLI6 '[.flows[] | select(.saddr == $c and .state == "established")]')
jq -e 'length == 5 and all(.[]; .server_ms > 0 and .client_ms > 0 and .client.mss == 1440)' \
	<<<"$E6" >/dev/null
check "track: IPv6: 5 established records, both halves > 0, client MSS 1440" $? "$E6"
x flows "$SRV_IF" | grep -q "established"
check "track: the flows table has a STATE column with established" $? "$(x flows "$SRV_IF" | head -3)"

# a SYN nobody answers: the spoofed source's SYN-ACKs go to the attacker
LONE=10.201.201.77
flood $LONE/32 $PORT 1 0
lone_rec() { x flows "$SRV_IF" -j | jq -c --arg a $LONE '[.flows[] | select(.saddr == $a)] | .[0] // empty'; }
lone_is() { [ "$(lone_rec | jq -r .state)" = "$1" ]; }
wait_until 2 lone_is synack
check "track: a SYN with no reply shows as synack (incomplete) at once" $? "$(lone_rec)"
lone_rec | jq -e '.server_ms > 0 and .client_ms == null' >/dev/null
check "track: ... with its server half and no client half" $? "$(lone_rec)"
x flows "$SRV_IF" --state incomplete | grep -q $LONE
check "track: flows --state incomplete lists it" $? "$(x flows "$SRV_IF" --state incomplete)"
wait_until 5 lone_is timeout
check "track: ... and as timeout once older than --handshake-timeout (3 s)" $? "$(lone_rec)"
lone_rec | jq -e '.synack_retrans >= 1' >/dev/null
check "track: ... the kernel's SYN-ACK retransmission counted ($(lone_rec | jq .synack_retrans))" $? "$(lone_rec)"

M=$(x stats "$SRV_IF" --prometheus)
grep -q "^xdpsyn_handshakes{.*state=\"timeout\"} [1-9]" <<<"$M" &&
	x stats "$SRV_IF" --prometheus | "$ROOT/build/promtool" check metrics >/dev/null 2>&1
check "track: Prometheus xdpsyn_handshakes{state=\"timeout\"} counts it (promtool-valid)" $? \
	"$(grep '^xdpsyn_handshakes' <<<"$M")"

# incomplete handshakes count into top per source prefix
flood 10.201.202.0/24 $PORT 40 2000
T=$(x top "$SRV_IF" -j)
jq -e '.sources[] | select(.prefix == "10.201.202.0/24") | .syns >= 40 and .completed == 0 and
	.incomplete >= 40' <<<"$T" >/dev/null
check "track: top lists 10.201.202.0/24 with 40 SYNs, 0 completed, 40 incomplete" $? \
	"$(jq -c '.sources' <<<"$T")"

# a refused port: the kernel's RST seen by TC egress
cli "$ROOT/build/tcpecho" client $SRV4 $PORT_REFUSED -t 1000 >/dev/null 2>&1
R=$(x flows "$SRV_IF" -j | jq -c --arg c $CLI4 --argjson p $PORT_REFUSED \
	'[.flows[] | select(.saddr == $c and .dport == $p)]')
jq -e 'length >= 1 and all(.[]; .state == "reset")' <<<"$R" >/dev/null
check "track: SYN to a protected port with no listener -> state reset" $? "$R"

# ---- auto: the rate flips it -----------------------------------------------
out=$(x set "$SRV_IF" policy=auto syn-rate=2000 calm=2 2>&1)
check "set policy=auto syn-rate=2000 calm=2" $? "$out"
[ "$(pstate policy)" = auto ] && [ "$(pstate state)" = track ]
check "status: auto, tracking" $? "$(x status "$SRV_IF" -j | jq -c .policy)"
to_proxy0=$(counter policy_to_proxy) to_track0=$(counter policy_to_track)
synack0=$(counter synack_tx)
# real clients through the whole flood: 60 connections 100 ms apart
cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 60 -i 100 -t 3000 >"$TMP/legit.out" 2>&1 &
legit=$!
sleep 1
t_flood=$(now)
flood "$FLOOD_NET4" $PORT 60000 30000   # 2 s at 30000/s: 15x the threshold
proxy_metric=$(x stats "$SRV_IF" --prometheus | awk '/^xdpsyn_policy_proxy_active/ {print $2}')
[ "$(pstate state)" = proxy ] && [ "$(pstate reason)" = rate ]
check "auto: a flood at 30000/s (> 2000/s) flipped it to proxy (reason rate)" $? \
	"$(x status "$SRV_IF" -j | jq -c .policy) flood: $(cat "$TMP/flood.out")"
since=$(pstate since_unix)
flip=$(awk -v a="$since" -v b="$t_flood" 'BEGIN { printf "%.3f", a - b }')
awk -v f="$flip" 'BEGIN { exit !(f >= 0 && f < 1.0) }'
check "auto: flipped ${flip} s after the flood began (< 1 s)" $? "since $since flood $t_flood"
[ "$(( $(counter policy_to_proxy) - to_proxy0 ))" = 1 ]
check "auto: policy_to_proxy counted once" $? "$(counter policy_to_proxy) (was $to_proxy0)"
[ "$(( $(counter synack_tx) - synack0 ))" -gt 40000 ]
check "auto: the flood was answered with cookies in XDP ($(( $(counter synack_tx) - synack0 )) SYN-ACKs)" $? \
	"$(cat "$TMP/flood.out")"
[ "$proxy_metric" = 1 ]
check "auto: Prometheus xdpsyn_policy_proxy_active 1 while proxying" $? "got '$proxy_metric'"
wait $legit
check "auto: every real connection across the flip succeeded ($(cat "$TMP/legit.out" | tail -1))" $? \
	"$(cat "$TMP/legit.out")"
back() { [ "$(pstate state)" = track ]; }
wait_until 6 back
check "auto: back to track after the flood (calm 2 s)" $? "$(x status "$SRV_IF" -j | jq -c .policy)"
[ "$(pstate reason)" = calm ] && [ "$(( $(counter policy_to_track) - to_track0 ))" = 1 ]
check "auto: reason calm, policy_to_track counted once" $? "$(x status "$SRV_IF" -j | jq -c .policy)"
x status "$SRV_IF" | grep -q "auto"
check "status shows the policy line" $? "$(x status "$SRV_IF")"

# ---- auto: the kernel's own cookies flip it ---------------------------------
out=$(x set "$SRV_IF" syn-rate=10000000 2>&1)
check "set syn-rate=10000000 (out of reach)" $? "$out"
kc0=$(srv nstat -az TcpExtSyncookiesSent | awk '/SyncookiesSent/ {print $2}')
to_proxy0=$(counter policy_to_proxy) kcc0=$(counter kernel_cookie)
flood 10.201.203.0/24 $PORT_SMALL 400 2000   # backlog 8: the SYN queue fills
kc=$(( $(srv nstat -az TcpExtSyncookiesSent | awk '/SyncookiesSent/ {print $2}') - kc0 ))
kcc=$(( $(counter kernel_cookie) - kcc0 ))
[ "$kc" -gt 0 ] && [ "$kcc" = "$kc" ]
check "auto: the kernel sent $kc SYN cookies (its nstat) and TC egress saw exactly those ($kcc)" $? \
	"nstat $kc, kernel_cookie +$kcc"
[ "$(pstate reason)" = kernel_cookie ] && [ "$(( $(counter policy_to_proxy) - to_proxy0 ))" = 1 ]
check "auto: ... and that flipped it to proxy (reason kernel_cookie)" $? \
	"$(x status "$SRV_IF" -j | jq -c .policy)"
wait_until 6 back
check "auto: back to track after calm" $? "$(x status "$SRV_IF" -j | jq -c .policy)"

# ---- switching live with a handshake in flight -------------------------------
# The client's segments after its SYN are held back (nft in its namespace)
# while the policy changes; then let through: its retransmission completes
# the handshake that began under the other policy.
cli nft add table inet "$NFT_TABLE"
cli nft add chain inet "$NFT_TABLE" out '{ type filter hook output priority 0; }'
cli nft add rule inet "$NFT_TABLE" out ip daddr $SRV4 tcp dport $PORT 'tcp flags & syn == 0' drop
inflight() { # inflight FROM TO: handshake begun under FROM, completed under TO
	local before_valid before_est
	x set "$SRV_IF" policy="$1" >/dev/null
	cli "$ROOT/build/tcpecho" client $SRV4 $PORT -n 1 -t 8000 >"$TMP/inflight.out" 2>&1 &
	local c=$!
	sleep 0.7
	before_valid=$(counter ack_valid) before_est=$(counter track_established)
	x set "$SRV_IF" policy="$2" >/dev/null
	cli nft flush chain inet "$NFT_TABLE" out
	wait $c
	local rc=$?
	cli nft add rule inet "$NFT_TABLE" out ip daddr $SRV4 tcp dport $PORT 'tcp flags & syn == 0' drop
	IN_VALID=$(( $(counter ack_valid) - before_valid ))
	IN_EST=$(( $(counter track_established) - before_est ))
	return $rc
}
inflight track proxy
rc=$?
[ $rc = 0 ] && [ "$IN_EST" -ge 1 ]
check "switch track -> proxy: a handshake the kernel began completes (track_established +$IN_EST)" $? \
	"client: $(cat "$TMP/inflight.out") est +$IN_EST"
inflight proxy track
rc=$?
[ $rc = 0 ] && [ "$IN_VALID" -ge 1 ]
check "switch proxy -> track: a handshake answered with our cookie completes (ack_valid +$IN_VALID)" $? \
	"client: $(cat "$TMP/inflight.out") ack_valid +$IN_VALID"
cli nft delete table inet "$NFT_TABLE"

eg_id=$(x status "$SRV_IF" -j | jq -r '.tc_egress_prog_id // 0')
out=$(x detach "$SRV_IF" 2>&1)
check "detach" $? "$out"
# the egress program (a tcx link or a clsact filter) is gone once nothing
# holds it: no filter, no link, no pin
leftover=$(srv tc filter show dev "$SRV_IF" egress 2>/dev/null)
[ "$eg_id" -gt 0 ] && ! bpftool prog show id "$eg_id" >/dev/null 2>&1 &&
	[ -z "$leftover" ] && [ ! -e "/sys/fs/bpf/xdpsyn/$SRV_IF" ]
check "detach removed the egress program ($eg_id), its filter or link, and the pins" $? \
	"prog $eg_id: $(bpftool prog show id "$eg_id" 2>&1 | head -1); filters: $leftover"
exit $((FAIL > 0))
