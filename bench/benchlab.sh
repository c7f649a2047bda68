# Shared by bench/flood.sh and bench/flip.sh, sourced after tests/e2e/lib.sh:
# the flood lab's extra set-up (spoofed sources routed to the attacker,
# threaded NAPI for the switch's port toward the server) and the helpers
# that start, stop and pin what a benchmark runs.
#
# Expects PORT, SRV_CPU, ATK_CPU, ROOT; sets SW_SRV, SRV_MAC, SRV_PID.
SW_SRV=ps-$LAB_ID   # the switch's port toward the server (lib.sh's p_srv, renamed)
SRV_PID=

# stop_bg PID: stop one process this script started and forget it
stop_bg() {
	local p=$1 keep=() q
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for q in "${LAB_PIDS[@]}"; do [ "$q" != "$p" ] && keep+=("$q"); done
	LAB_PIDS=("${keep[@]}")
}

# wait_bg PID: wait for one of ours to end on its own, then forget it;
# returns its exit status
wait_bg() {
	local p=$1 keep=() q rc
	wait "$p" 2>/dev/null; rc=$?
	for q in "${LAB_PIDS[@]}"; do [ "$q" != "$p" ] && keep+=("$q"); done
	LAB_PIDS=("${keep[@]}")
	return $rc
}

srv() { in_ns "$NS_SRV" "$@"; }

# The NAPI kthreads of an interface: named napi/IFACE-ID, cut to 15 chars.
napi_pids() {
	local want; want=$(printf '%.15s' "napi/$1-")
	ps -eo pid=,comm= | awk -v w="$want" 'substr($2, 1, length(w)) == w { print $1 }'
}
pin_napi() { # pin_napi IFACE CPU
	local p n=0
	for p in $(napi_pids "$1"); do taskset -pc "$2" "$p" >/dev/null && n=$((n + 1)); done
	[ $n -gt 0 ]
}

# bench_lab_up: lab_up, then spoofed sources routed to the attacker (not
# ARPed one by one, so the kernel's SYN-ACKs to them leave the server and
# can be counted there) and threaded NAPI on the switch's port toward the
# server, so bridging the SYN-ACKs is not charged to the server core.
# Returns 1 with a message on failure.
bench_lab_up() {
	lab_up || { echo "lab setup failed"; return 1; }
	ip -n "$NS_SRV" route add "$FLOOD_NET4" via "$ATK4" dev "$SRV_IF"
	ip -n "$NS_SW" link set p_srv down
	ip -n "$NS_SW" link set p_srv name "$SW_SRV"
	ip -n "$NS_SW" link set "$SW_SRV" up
	ip netns exec "$NS_SW" sh -c "echo 1 > /sys/class/net/$SW_SRV/threaded" ||
		{ echo "threaded NAPI on $SW_SRV failed"; return 1; }
	SRV_MAC=$(ip -n "$NS_SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
	in_ns "$NS_CLI" ping -c1 -W1 -q $SRV4 >/dev/null 2>&1
	in_ns "$NS_ATK" ping -c1 -W1 -q $SRV4 >/dev/null 2>&1
	return 0
}

# server_restart: a fresh listener on PORT, pinned to SRV_CPU (no SYN
# queue left over from a flood); waits until it listens
server_restart() {
	[ -n "$SRV_PID" ] && stop_bg "$SRV_PID"
	lab_bg "$NS_SRV" taskset -c $SRV_CPU "$ROOT/build/tcpecho" serve $PORT
	SRV_PID=${LAB_PIDS[-1]}
	local i
	for i in $(seq 50); do
		srv ss -Hltn "sport = :$PORT" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
