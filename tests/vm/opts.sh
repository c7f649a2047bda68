# The 16 TCP option combinations of the kernel VM suite (sourced by
# tests/vm/suite.sh): the client's net.ipv4.tcp_timestamps x tcp_sack x
# tcp_window_scaling x tcp_ecn (each 0 or 1), IPv4 and IPv6. What the
# server's kernel negotiated for one connection (TCP_INFO of the accepted
# socket, logged by tcpecho: "opts=ts,sack,wscale,ecn, wscale=SND,RCV
# mss=N") through xdpsyn must equal a direct connection's, as the host's
# tests/e2e/test_e2e.sh compares its five settings. The kernel-cookie
# hand-off (kernel < 6.9) keeps what the kernel's own cookies keep: the
# MSS always; window scale, SACK and ECN only for a client that sends
# timestamps (README, "Requirements").

# combo_name I: "ts+ sack+ ws- ecn-" for bits TS=8 SACK=4 WS=2 ECN=1
combo_name() {
	local i=$1 s=""
	s+="ts$(((i >> 3) & 1))"; s+=" sack$(((i >> 2) & 1))"
	s+=" ws$(((i >> 1) & 1))"; s+=" ecn$((i & 1))"
	s=${s//1/+}; echo "${s//0/-}"
}
combo_apply() { # combo_apply I: the client's sysctls
	local i=$1
	cli sysctl -qw net.ipv4.tcp_timestamps=$(((i >> 3) & 1)) net.ipv4.tcp_sack=$(((i >> 2) & 1)) \
		net.ipv4.tcp_window_scaling=$(((i >> 1) & 1)) net.ipv4.tcp_ecn=$((i & 1))
}
# server_opts1 ADDR: the server's line for one connection (tcpecho's child
# logs it before it echoes, so it is there when the client returns)
server_opts1() {
	local i
	: >"$OPTLOG"
	cli "$ROOT/build/tcpecho" client "$1" $PORT -b 100 -t 5000 -q >/dev/null
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -s "$OPTLOG" ] && break
		sleep 0.05
	done
	tail -n 1 "$OPTLOG"
}
declare -A COMBO_DIRECT
opts16_direct() { # before attach: the reference, 16 x 2 connections
	local i
	for i in $(seq 0 15); do
		combo_apply "$i"
		COMBO_DIRECT[$i,4]=$(server_opts1 $SRV4)
		COMBO_DIRECT[$i,6]=$(server_opts1 $SRV6)
	done
	restore_client
}
opts16_through() {
	local i fam addr got want what ts n_ok=0 fails=()
	for i in $(seq 0 15); do
		combo_apply "$i"
		ts=$(((i >> 3) & 1))
		for fam in 4 6; do
			addr=$SRV4; [ $fam = 6 ] && addr=$SRV6
			got=$(server_opts1 $addr)
			want=${COMBO_DIRECT[$i,$fam]}
			what="as direct"
			if ! kver_ge 6 9 && [ $ts = 0 ]; then
				# kernel-cookie, no timestamps: the MSS alone
				want="opts= wscale=0,0 ${want##* }"
				what="MSS alone (kernel-cookie, no timestamps)"
			fi
			if [ -n "$got" ] && [ "$got" = "$want" ]; then
				ok "IPv$fam client $(combo_name "$i"): server socket $what ($got)"
			else
				bad "IPv$fam client $(combo_name "$i"): server socket $what" \
					"through xdpsyn: '$got' want: '$want' (direct: '${COMBO_DIRECT[$i,$fam]}')"
			fi
		done
	done
	restore_client
}
