#!/usr/bin/env bash
# make demo: a lab of network namespaces, a real echo server behind xdpsyn
# in the auto policy (track handshakes while calm, answer SYNs with cookies in
# XDP under a flood), a bounded spoofed SYN flood from an attacker namespace
# while a legit client makes 200 connections, then what an operator would
# look at, and the policy going back to tracking once the flood is over.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
[ "$(id -u)" = 0 ] || { echo "xdpsyn demo: needs root (network namespaces, BPF)" >&2; exit 4; }
source tests/e2e/lib.sh
PORT=80
FLOOD_COUNT=${FLOOD_COUNT:-3000000}
FLOOD_SECS=${FLOOD_SECS:-10}
SYN_RATE=5000
CALM=3
trap lab_down EXIT
trap 'exit 1' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "lab: client $CLI4, attacker $ATK4 (spoofing $FLOOD_NET4), server $SRV4 on $SRV_IF"
lab_up || { echo "xdpsyn demo: could not build the lab" >&2; exit 1; }
lab_bg "$NS_SRV" "$ROOT/build/tcpecho" serve $PORT
sleep 0.3

say "xdpsyn attach $SRV_IF --ports $PORT --policy auto --syn-rate $SYN_RATE --calm $CALM"
in_ns "$NS_SRV" "$XDPSYN" attach "$SRV_IF" --ports $PORT --policy auto --syn-rate $SYN_RATE \
	--calm $CALM 2>&1 | grep -v 'warning: .*veth' || exit 1

say "calm: 20 connections, tracked (the kernel answers; xdpsyn watches)"
in_ns "$NS_CLI" "$ROOT/build/tcpecho" client $SRV4 $PORT -n 20 -b 1000 -t 3000 || exit 1
in_ns "$NS_SRV" "$XDPSYN" flows "$SRV_IF" --state established --sort server --limit 3
# spoofed sources: routed to the attacker, so the kernel's SYN-ACKs to them
# (before the switch) leave the server like in the field
ip -n "$NS_SRV" route add "$FLOOD_NET4" via $ATK4 dev "$SRV_IF"

say "flood: up to $FLOOD_COUNT spoofed SYNs in ${FLOOD_SECS}s, while the client makes 200 connections"
SRV_MAC=$(in_ns "$NS_SRV" ip -br link show dev "$SRV_IF" | awk '{print $3}')
FLOOD_OUT=$(mktemp) CLIENT_OUT=$(mktemp)
in_ns "$NS_ATK" "$ROOT/build/synflood" -i eth0 --dst-ip $SRV4 --dst-mac "$SRV_MAC" --dport $PORT \
	--src-net $FLOOD_NET4 --count "$FLOOD_COUNT" --duration "$FLOOD_SECS" -q >"$FLOOD_OUT" 2>&1 &
FP=$!
sleep 1
in_ns "$NS_CLI" "$ROOT/build/tcpecho" client $SRV4 $PORT -n 200 -b 1000 -t 3000 >"$CLIENT_OUT" 2>&1 &
CP=$!
t0=$SECONDS
while kill -0 $FP 2>/dev/null; do
	s=$(in_ns "$NS_SRV" "$XDPSYN" stats "$SRV_IF" -j 2>/dev/null)
	p=$(in_ns "$NS_SRV" "$XDPSYN" status "$SRV_IF" -j 2>/dev/null | jq -r .policy.state)
	printf '\r  %2ds  policy: %-5s  SYNs answered in XDP: %-10s legit handshakes validated: %-6s forged ACKs dropped: %-6s' \
		$((SECONDS - t0)) "$p" "$(jq -r .counters.synack_tx <<<"$s")" \
		"$(jq -r .counters.ack_valid <<<"$s")" "$(jq -r .counters.ack_invalid <<<"$s")"
	sleep 1
done
echo
wait $FP
wait $CP

say "xdpsyn status $SRV_IF"
in_ns "$NS_SRV" "$XDPSYN" status "$SRV_IF"
say "xdpsyn stats $SRV_IF"
in_ns "$NS_SRV" "$XDPSYN" stats "$SRV_IF"
say "xdpsyn top $SRV_IF   (who floods: high SYNs, nothing completed)"
in_ns "$NS_SRV" "$XDPSYN" top "$SRV_IF" --limit 5
say "xdpsyn flows $SRV_IF --sort rtt --limit 5   (the slowest handshakes)"
in_ns "$NS_SRV" "$XDPSYN" flows "$SRV_IF" --sort rtt --limit 5

say "after the flood: back to tracking once the SYN rate stayed below $((SYN_RATE / 2))/s for ${CALM}s"
for ((i = 0; i < (CALM + 3) * 10; i++)); do
	[ "$(in_ns "$NS_SRV" "$XDPSYN" status "$SRV_IF" -j | jq -r .policy.state)" = track ] && break
	sleep 0.1
done
in_ns "$NS_SRV" "$XDPSYN" status "$SRV_IF" | grep -A1 -E '^ *policy'

S=$(in_ns "$NS_SRV" "$XDPSYN" stats "$SRV_IF" -j)
P=$(in_ns "$NS_SRV" "$XDPSYN" status "$SRV_IF" -j)
read -r ok failed p99 < <(sed -E 's/ok=([0-9]+) failed=([0-9]+) .*p99_ms=([0-9.]+).*/\1 \2 \3/' "$CLIENT_OUT" | tail -n 1)
sent=$(sed -E 's/.*sent=([0-9]+).*/\1/' "$FLOOD_OUT" | tail -n 1)
say "result"
echo "legit connections: $ok/$((ok + failed)) succeeded, p99 connect ${p99} ms," \
	"flood: $(jq -r .counters.synack_tx <<<"$S") SYNs answered in XDP (of $sent sent)"
echo "policy: switched to proxy $(jq -r .counters.policy_to_proxy <<<"$S") time(s), back to track" \
	"$(jq -r .counters.policy_to_track <<<"$S") time(s); SYNs the kernel saw before the switch:" \
	"$(jq -r .counters.track_syn <<<"$S") (20 of them the calm connections)"
rm -f "$FLOOD_OUT" "$CLIENT_OUT"
[ "$failed" = 0 ] && [ "$(jq -r .policy.state <<<"$P")" = track ]
