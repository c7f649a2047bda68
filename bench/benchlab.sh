# Shared by the benchmarks' labs, sourced after tests/e2e/lib.sh (in_ns,
# lab_bg and LAB_PIDS, the processes a script started):
#   bench/flood.sh, bench/flip.sh   the flood lab (lib.sh's namespaces)
#   bench/gateway.sh                the gateway lab (bench/gwlab.sh, which
#                                   uses the helpers of part 1 too)
#
# Part 1, any lab: start, stop and pin what a benchmark runs; read what it
# cost (NAPI threads' CPU time, /proc/stat, interface counters).
# Part 2, the flood lab's extra set-up (spoofed sources routed to the
# attacker, threaded NAPI for the switch's port toward the server) and its
# server. Expects PORT, SRV_CPU, ROOT; sets SW_SRV, SRV_MAC, SRV_PID.

# ---- part 1: any lab ------------------------------------------------------------

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
# thread_napi NS IFACE: threaded NAPI on IFACE (a veth has a NAPI instance
# while an XDP program is attached; a new attach makes a new one)
thread_napi() {
	ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" ||
		{ echo "threaded NAPI on $2 failed"; return 1; }
}
# thread_pin NS IFACE CPU: threaded NAPI on IFACE, its threads on CPU
thread_pin() {
	thread_napi "$1" "$2" || return 1
	pin_napi "$2" "$3" || { echo "no NAPI thread for $2"; return 1; }
}
napi_ns() { # napi_ns IFACE...: summed run time of their NAPI threads, ns
	local i p s=0 v
	for i in "$@"; do
		for p in $(napi_pids "$i"); do
			read -r v _ <"/proc/$p/schedstat" 2>/dev/null && s=$((s + v))
		done
	done
	echo $s
}
link_stat() { # link_stat NS IFACE rx|tx packets|bytes|dropped
	ip -n "$1" -s -j link show dev "$2" | jq -r ".[0].stats64.$3.$4"
}
if_mac() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'; } # if_mac NS IFACE

# CPU time from /proc/stat: one core's line (cpu_line N) or the machine's
cpu_line() { awk -v c="cpu$1" '$1 == c { print $2, $3, $4, $5, $6, $7, $8, $9 }' /proc/stat; }
all_cpu_line() { awk '$1 == "cpu" { print $2, $3, $4, $5, $6, $7, $8, $9 }' /proc/stat; }
# cpu_share "BEFORE" "AFTER": user% sys+irq+softirq% of the elapsed ticks
cpu_share() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, " "); split(b, y, " ");
		for (i = 1; i <= 8; i++) { d[i] = y[i] - x[i]; t += d[i] }
		if (t <= 0) { print "0 0"; exit }
		printf "%.1f %.1f\n", 100 * (d[1] + d[2]) / t, 100 * (d[3] + d[6] + d[7]) / t }'
}

# flood_results FLOOD_OUT LEGIT_OUT: what synflood and bench_legit said, into
# the caller's (local) sent pps legit lok lfail p50 p99 (legit: the client's
# last line); 1 with a message when either said nothing
flood_results() {
	sent=$(grep -o 'sent=[0-9]*' "$1" | cut -d= -f2)
	pps=$(grep -o 'pps=[0-9]*' "$1" | cut -d= -f2)
	legit=$(tail -n 1 "$2")
	lok=$(grep -o '^ok=[0-9]*' <<<"$legit" | cut -d= -f2)
	lfail=$(grep -o 'failed=[0-9]*' <<<"$legit" | cut -d= -f2)
	p50=$(grep -o 'p50_ms=[0-9.]*' <<<"$legit" | cut -d= -f2)
	p99=$(grep -o 'p99_ms=[0-9.]*' <<<"$legit" | cut -d= -f2)
	if [ -z "$sent" ] || [ -z "$lok" ] || [ -z "$lfail" ]; then
		echo "flood or client gave no result: $(cat "$1") / $legit"
		return 1
	fi
}

# server_restart [NS CPU]: a fresh tcpecho listener on PORT in NS (default
# the flood lab's server, NS_SRV), pinned to CPU (default SRV_CPU): no SYN
# queue left over from a flood; SRV_PID its pid. Waits until it listens.
SRV_PID=
server_restart() {
	local ns=${1:-$NS_SRV} cpu=${2:-$SRV_CPU} i
	[ -n "$SRV_PID" ] && stop_bg "$SRV_PID"
	lab_bg "$ns" taskset -c "$cpu" "$ROOT/build/tcpecho" serve $PORT
	SRV_PID=${LAB_PIDS[-1]}
	for i in $(seq 50); do
		in_ns "$ns" ss -Hltn "sport = :$PORT" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# ---- part 2: the flood lab (tests/e2e/lib.sh's namespaces) ------------------------
SW_SRV=ps-$LAB_ID   # the switch's port toward the server (lib.sh's p_srv, renamed)

srv() { in_ns "$NS_SRV" "$@"; }

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
	thread_napi "$NS_SW" "$SW_SRV" || return 1
	SRV_MAC=$(if_mac "$NS_SRV" "$SRV_IF")
	in_ns "$NS_CLI" ping -c1 -W1 -q $SRV4 >/dev/null 2>&1
	in_ns "$NS_ATK" ping -c1 -W1 -q $SRV4 >/dev/null 2>&1
	return 0
}
