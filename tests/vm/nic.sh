# The VM side of the virtio-net NIC test, sourced by tests/vm/suite.sh when
# the kernel command line has xs.net=ADDR4/LEN,ADDR6/LEN (tests/vm/run.sh and
# tests/vm/nic_host.sh: the host's end is a tap in a namespace the test made).
# xdpsyn is attached to the NIC in native mode (the virtio_net driver's XDP,
# not veth): its SYN-ACKs leave through the NIC to a client outside the VM.
nic_test() {
	local dev drv a4 a6 out rc v n i c syn0 inv0 po0 log8080=/tmp/xs-nic-8080.log log8081=/tmp/xs-nic-8081.log
	local pids=()
	dev=$(ip -o link show | awk -F': ' '$2 != "lo" {print $2}')
	[ "$(wc -w <<<"$dev")" -eq 1 ]
	check "NIC: the VM has exactly one network device ($dev)" $? "devices: $dev"
	dev=$(head -n 1 <<<"$dev")
	[ -n "$dev" ] || return 0
	NIC_DEV=$dev
	drv=$(basename "$(readlink /sys/class/net/"$dev"/device/driver 2>/dev/null)")
	[ "$drv" = virtio_net ]
	check "NIC: $dev is virtio-net ($drv)" $? "driver '$drv'"
	IFS=, read -r a4 a6 <<<"$XS_NET"
	ip addr add "$a4" dev "$dev" && ip addr add "$a6" dev "$dev" nodad && ip link set "$dev" up
	check "NIC: $dev up with $a4 $a6 (no default route)" $? "ip failed"
	: >"$log8080"; : >"$log8081"
	"$ROOT/build/tcpecho" serve 8080 "$log8080" & pids+=($!)
	"$ROOT/build/tcpecho" serve 8081 "$log8081" & pids+=($!)
	NIC_PID="${pids[*]}"
	sleep 0.3
	if [ "$MODE" = full ]; then
		out=$("$XDPSYN" attach "$dev" --ports 8080 --set-sysctl $ATTACH_OPTS 2>&1)
		check "NIC: xdpsyn attach $dev (native)" $? "$out"
		v=$("$XDPSYN" status "$dev" -j | jq -r '(.interfaces[0] // .) | "\(.state) \(.mode)"')
		[ "$v" = "attached native" ]
		check "NIC: status -j: attached, native ($v)" $? "got '$v'"
		inv0=$(nic_counter ack_invalid)
	else
		out=$("$XDPSYN" attach "$dev" --ports 8080 --set-sysctl $ATTACH_OPTS 2>&1); rc=$?
		[ $rc -eq 4 ] && grep -q 'too old' <<<"$out"
		check "NIC: attach on $dev refused: exit 4, 'too old'" $? "rc=$rc: $out"
	fi
	echo "#    XS-VM-NIC-READY $MODE"
	nic_wait_host 1 || return 0
	n=$(wc -l <"$log8080")
	[ "$n" -eq 20 ]
	check "NIC: the server accepted the host's 20 connections ($n)" $? "accepted $n"
	if [ "$MODE" = full ]; then
		c=ack_valid; kver_ge 6 9 && c=handoff_ok
		v=$(nic_counter $c)
		[ "$v" -ge 20 ]
		check "NIC: $c >= 20 ($v)" $? "$c=$v"
		v=$(nic_counter ack_invalid)
		[ $((v - inv0)) -eq 0 ]
		check "NIC: no segment of the 20 real connections counted as a forged ACK (ack_invalid +$((v - inv0)))" $? \
			"ack_invalid +$((v - inv0)): real segments dropped in XDP"
		syn0=$(nic_counter synack_tx); inv0=$(nic_counter ack_invalid)
		po0=$(passive_opens_here)
		echo "#    XS-VM-NIC-FLOOD"
		nic_wait_host 2 || return 0
		v=$(nic_counter ack_invalid)
		[ $((v - inv0)) -eq 500 ]
		check "NIC: the host's 500 forged ACKs dropped as ack_invalid (+$((v - inv0)))" $? "ack_invalid +$((v - inv0))"
		v=$(nic_counter synack_tx)
		[ $((v - syn0)) -eq 1000 ]
		check "NIC: the host's 1000 spoofed SYNs answered by XDP through the NIC (synack_tx +$((v - syn0)))" $? "synack_tx +$((v - syn0))"
		v=$(passive_opens_here)
		# one: the host's "done" connection to 8081
		[ "$v" = $((po0 + 1)) ]
		check "NIC: no connection created by them (PassiveOpens +$((v - po0)), the host's 'done' to 8081 only)" $? \
			"PassiveOpens $po0 -> $v"
		out=$("$XDPSYN" detach "$dev" 2>&1)
		check "NIC: xdpsyn detach $dev" $? "$out"
	fi
	kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
	NIC_PID=
}
nic_counter() { "$XDPSYN" stats "$NIC_DEV" -j | jq -r "(.interfaces[0] // .).counters.$1 // 0"; }
passive_opens_here() {
	awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 }
		else print $c }' /proc/net/snmp
}
# nic_wait_host N: the host's Nth connection to 8081 (its "done"), 60 s at most
nic_wait_host() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(wc -l <"$log8081")" -ge "$1" ] && return 0
		sleep 0.1
	done
	bad "NIC: the host's phase $1" "no connection to 8081 within 60 s"
	kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
	NIC_PID=
	return 1
}
nic_test
